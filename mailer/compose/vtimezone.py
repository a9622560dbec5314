"""A VTIMEZONE block (RFC 5545 3.6.5) for an IANA zone, built from the system's tz database.

Calendar programs read DTSTART;TZID=Europe/Stockholm correctly only when the file defines the
zone. The transitions of the years in question are found in `zoneinfo`; when they follow a
yearly rule ("last Sunday of March at 02:00", as in the EU since 1996) the observance gets an
RRULE, which Outlook prefers; otherwise each transition is listed with RDATE. A zone without
summer time gets one STANDARD observance.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    instant: dt.datetime  # UTC
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    daylight: bool

    @property
    def local(self) -> dt.datetime:
        """The wall-clock time the change happens at, in the time before it (naive)."""
        return (self.instant + self.offset_from).replace(tzinfo=None)


def _offset(tz: zoneinfo.ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    return instant.astimezone(tz).utcoffset() or dt.timedelta(0)


def transitions(tz: zoneinfo.ZoneInfo, year: int) -> list[Transition]:
    """Every change of UTC offset in `year`, found day by day and then to the second."""
    found = []
    day = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    while day < end:
        after = day + dt.timedelta(days=1)
        before_offset = _offset(tz, day)
        if _offset(tz, after) != before_offset:
            low, high = day, after  # offset(low) == before, offset(high) != before
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(tz, middle) == before_offset:
                    low = middle
                else:
                    high = middle
            instant = high.replace(microsecond=0)
            shown = instant.astimezone(tz)
            found.append(
                Transition(
                    instant,
                    before_offset,
                    _offset(tz, instant),
                    shown.tzname() or "",
                    bool(shown.dst()),
                )
            )
        day = after
    return found


def _offset_text(offset: dt.timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _weekday_rule(local: dt.datetime) -> tuple[int, int]:
    """(month, n) for "the n-th weekday of the month"; n = -1 for the last one."""
    days = calendar.monthrange(local.year, local.month)[1]
    if local.day + 7 > days:
        return local.month, -1
    return local.month, (local.day - 1) // 7 + 1


def _nth_weekday(year: int, month: int, n: int, weekday: int) -> int:
    days = [
        day
        for day in range(1, calendar.monthrange(year, month)[1] + 1)
        if dt.date(year, month, day).weekday() == weekday
    ]
    return days[n] if n < 0 else days[n - 1]


def _follows_rule(items: list[Transition]) -> str:
    """The RRULE the transitions follow every year, or "" when they do not."""
    first = items[0]
    month, n = _weekday_rule(first.local)
    weekday = first.local.weekday()
    years = [t.local.year for t in items]
    if years != list(range(years[0], years[0] + len(years))):
        return ""
    for item in items:
        local = item.local
        expected_day = _nth_weekday(local.year, month, n, weekday)
        if (local.month, local.day, local.time()) != (month, expected_day, first.local.time()):
            return ""
        if (item.offset_from, item.offset_to, item.name) != (
            first.offset_from,
            first.offset_to,
            first.name,
        ):
            return ""
    return f"RRULE:FREQ=YEARLY;BYMONTH={month};BYDAY={n}{DAYS[weekday]}"


def _observance(items: list[Transition]) -> list[str]:
    first = items[0]
    kind = "DAYLIGHT" if first.daylight else "STANDARD"
    lines = [
        f"BEGIN:{kind}",
        f"DTSTART:{first.local:%Y%m%dT%H%M%S}",
        f"TZOFFSETFROM:{_offset_text(first.offset_from)}",
        f"TZOFFSETTO:{_offset_text(first.offset_to)}",
    ]
    rule = _follows_rule(items) if len(items) > 1 else ""
    if rule:
        lines.append(rule)
    else:
        lines += [f"RDATE:{item.local:%Y%m%dT%H%M%S}" for item in items[1:]]
    if first.name:
        lines.append(f"TZNAME:{first.name}")
    lines.append(f"END:{kind}")
    return lines


def vtimezone_lines(tz_name: str, first_year: int, last_year: int) -> list[str]:
    """BEGIN:VTIMEZONE ... END:VTIMEZONE covering the years an event falls in (and the year
    before, so the offset in force at the start of the first year is defined)."""
    tz = zoneinfo.ZoneInfo(tz_name)
    found = [t for year in range(first_year - 1, last_year + 1) for t in transitions(tz, year)]
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz_name}"]
    if not found:
        moment = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC).astimezone(tz)
        offset = _offset_text(moment.utcoffset() or dt.timedelta(0))
        lines += ["BEGIN:STANDARD", "DTSTART:19700101T000000"]
        lines += [f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}"]
        if moment.tzname():
            lines.append(f"TZNAME:{moment.tzname()}")
        lines.append("END:STANDARD")
    else:
        groups: dict[tuple, list[Transition]] = {}
        for item in found:
            key = (item.daylight, item.offset_from, item.offset_to, item.name)
            groups.setdefault(key, []).append(item)
        for items in sorted(groups.values(), key=lambda group: group[0].instant):
            lines += _observance(items)
    lines.append("END:VTIMEZONE")
    return lines
