"""Wall-clock times in a named time zone: reading `2026-10-07 10:00`, refusing times that do not
exist (the hour skipped when summer time starts), and showing them as people write them.

Invitations (`invitation:` in issue.md) and scheduled sends (`send --at`) both take local times;
the zone is the issue's `timezone:` key, Europe/Stockholm when there is none.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from ..errors import IssueError
from ..locale import format_date, translate

DEFAULT_TIMEZONE = "Europe/Stockholm"

_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2})[:.](\d{2})(?::(\d{2}))?)?$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


class LocalTimeError(ValueError):
    """A time that cannot be read or does not exist; the caller adds where it was written."""


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone `name` (Europe/Stockholm); LocalTimeError for an unknown one."""
    try:
        if not name or name != name.strip() or ".." in name:
            raise ValueError(name)
        return zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise LocalTimeError(
            f"unknown time zone {name!r}; write an IANA name such as Europe/Stockholm, "
            "Europe/Copenhagen or Europe/London"
        ) from None


def check_exists(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """`moment` (naive, wall clock in `tz`) as an aware time; a wall time in the gap when the
    clocks go forward exists nowhere, and is refused rather than silently moved."""
    aware = moment.replace(tzinfo=tz)
    back = aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    if back != moment:
        raise LocalTimeError(
            f"{moment:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks are put forward "
            "that night); choose another time"
        )
    return aware


def parse_local(value: object, *, allow_date: bool = False) -> dt.datetime | dt.date:
    """`2026-10-07 10:00` (or a YAML date/datetime) as a naive wall-clock datetime; with
    `allow_date`, a bare date `2026-10-07` stays a date (an all-day event)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise LocalTimeError(
                f"{value} carries a UTC offset; write the local time without it "
                "(the time zone comes from 'timezone:')"
            )
        return value.replace(second=0, microsecond=0)
    if isinstance(value, dt.date):
        if allow_date:
            return value
        raise LocalTimeError(f"{value} has no time of day; write it as YYYY-MM-DD HH:MM")
    text = str(value).strip() if value is not None else ""
    match = _DATE_TIME.match(text)
    if not match or (match.group(2) is None and not allow_date):
        example = "YYYY-MM-DD HH:MM, e.g. 2026-10-07 10:00"
        raise LocalTimeError(f"{text!r} is not a date and time; write it as {example}")
    try:
        day = dt.date.fromisoformat(match.group(1))
        if match.group(2) is None:
            return day
        return dt.datetime.combine(day, dt.time(int(match.group(2)), int(match.group(3))))
    except ValueError as exc:
        raise LocalTimeError(f"{text!r} is not a date and time ({exc})") from None


def parse_end(value: object, start: dt.datetime | dt.date) -> dt.datetime | dt.date:
    """An end time: a full date (and time) like the start, or only `16:00` on the start's day."""
    if isinstance(start, dt.datetime) and isinstance(value, str):
        match = _TIME.match(value.strip())
        if match:
            try:
                return dt.datetime.combine(
                    start.date(), dt.time(int(match.group(1)), int(match.group(2)))
                )
            except ValueError as exc:
                raise LocalTimeError(f"{value!r} is not a time of day ({exc})") from None
    end = parse_local(value, allow_date=not isinstance(start, dt.datetime))
    if isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        raise LocalTimeError("start and end must both have a time of day, or both be dates")
    return end


def read_zone(value: object, path, line: int) -> str:
    """The `timezone:` key of issue.md, checked; IssueError naming the line when unknown."""
    from .sources import where

    name = DEFAULT_TIMEZONE if value in (None, "") else str(value).strip()
    try:
        zone(name)
    except LocalTimeError as exc:
        raise IssueError(f"{where(path, line)}: timezone: {exc}") from None
    return name


def clock(language: str, moment: dt.datetime) -> str:
    """`10.00` (sv, da) or `10:00` (en)."""
    return translate(language, "clock_time", hour=f"{moment.hour:02d}", minute=f"{moment:%M}")


def long_date(language: str, day: dt.date) -> str:
    """`tisdag 7 oktober 2026`, `tirsdag 7. oktober 2026`, `Tuesday 7 October 2026`."""
    weekday = translate(language, "weekdays").split()[day.weekday()]
    return translate(language, "weekday_date", weekday=weekday, date=format_date(language, day))


def when_text(language: str, start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> str:
    """A time span as an invitation shows it, e.g. `tisdag 7 oktober 2026, kl. 10.00–16.00`."""
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        first = start if not isinstance(start, dt.datetime) else start.date()
        last = end if not isinstance(end, dt.datetime) else end.date()
        if last == first:
            return long_date(language, first)
        return f"{long_date(language, first)} – {long_date(language, last)}"
    if start.date() == end.date():
        span = translate(
            language, "clock_span", start=clock(language, start), end=clock(language, end)
        )
        return f"{long_date(language, start.date())}, {span}"
    return f"{_day_and_clock(language, start)} – {_day_and_clock(language, end)}"


def _day_and_clock(language: str, moment: dt.datetime) -> str:
    at = translate(language, "clock_at", time=clock(language, moment))
    return f"{long_date(language, moment.date())}, {at}"
