"""Dates in imported files as Excel writes them in Sweden and Denmark, read per file.

`2026-03-05` (ISO, the Swedish default), `05.03.2026` and `05-03-2026` (day first, the Danish
forms) mean one thing. `5/3/2026` is day/month in Sweden and Denmark but month/day in an
American export, so slashed dates are decided for the whole file: a slashed date whose first
number is over 12 shows the file is day/month, one whose second number is over 12 shows it is
month/day. A file that shows neither makes `5/3/2026` ambiguous (`3/3/2026` is not): such a row
is refused, naming the date and how to write it. A file that shows both is refused row by row.
"""

from __future__ import annotations

import datetime as dt
import re

from ..errors import SubscriberError

SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
DAY_FIRST = re.compile(r"(\d{1,2})[.-](\d{1,2})[.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


class DateOrder:
    """How slashed dates in one file are read: learn from every date first, then `parse`."""

    def __init__(self) -> None:
        self.day_first_row: int | None = None  # a row proving day/month (13/3/2026)
        self.month_first_row: int | None = None  # a row proving month/day (3/13/2026)

    def learn(self, row: int, text: str) -> None:
        match = SLASHED.fullmatch(text.strip())
        if not match:
            return
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second and self.day_first_row is None:
            self.day_first_row = row
        if second > 12 >= first and self.month_first_row is None:
            self.month_first_row = row

    def parse(self, text: str) -> dt.datetime:
        """The moment `text` names; SubscriberError saying why it cannot be read."""
        text = text.strip()
        match = SLASHED.fullmatch(text)
        if match:
            return self._slashed(text, match)
        match = DAY_FIRST.fullmatch(text)
        if match:
            return _moment(text, match, day=1, month=2)
        try:
            return dt.datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise SubscriberError(
                f"{text!r} is not a date like 2026-03-05, 05.03.2026 or 5/3/2026"
            ) from None

    def _slashed(self, text: str, match: re.Match) -> dt.datetime:
        first, second = int(match.group(1)), int(match.group(2))
        if self.day_first_row and self.month_first_row:
            raise SubscriberError(
                f"{text!r}: the file mixes day/month (row {self.day_first_row}) and "
                f"month/day (row {self.month_first_row}) dates; write dates as 2026-03-05"
            )
        if self.month_first_row:
            return _moment(text, match, day=2, month=1)
        if self.day_first_row or first == second or first > 12:
            return _moment(text, match, day=1, month=2)
        if second > 12:
            return _moment(text, match, day=2, month=1)
        raise SubscriberError(
            f"{text!r} could be {first} {_MONTHS[second - 1]} or {second} {_MONTHS[first - 1]}, "
            "and no date in the file tells which (none has a day over 12); write it as "
            f"{match.group(3)}-{second:02d}-{first:02d} (day first) or "
            f"{match.group(3)}-{first:02d}-{second:02d} (month first)"
        )


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _moment(text: str, match: re.Match, *, day: int, month: int) -> dt.datetime:
    hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
    try:
        return dt.datetime(
            int(match.group(3)),
            int(match.group(month)),
            int(match.group(day)),
            hour,
            minute,
            second,
        )
    except ValueError as exc:
        raise SubscriberError(f"{text!r} is not a real date ({exc})") from None
