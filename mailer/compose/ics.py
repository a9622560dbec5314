"""iCalendar files (RFC 5545) for an issue: the invitation and each `events` section's dates.

Written by hand rather than with a library: the output must be byte-identical on every rebuild
(DTSTAMP comes from the issue's date, UIDs from the issue and event, never from the clock), and
the rules are few: TEXT values escape `\\ ; ,` and newlines, lines are folded at 75 octets
without splitting a UTF-8 character, and every line ends in CRLF. Timed events carry
`TZID=<zone>` with a VTIMEZONE built from the system's time zone data (see vtimezone.py), which
Outlook, Google Calendar and Apple Calendar all need for local times.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .vtimezone import vtimezone_lines

if TYPE_CHECKING:
    from .issue import Issue

PRODID = "-//newsletter//Nyhetsbrev calendar 1.0//EN"
INVITATION_FILE = "invitation.ics"


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT. `start`/`end` are naive wall-clock times in the calendar's zone, or dates
    (all-day; `end` is the last day, inclusive)."""

    uid: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    organiser_name: str = ""
    organiser_email: str = ""


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    for raw, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        value = value.replace(raw, escaped)
    return value


def param_value(value: str) -> str:
    """A parameter value (CN=...): quoted, with the double quotes it may not contain removed."""
    cleaned = "".join(ch for ch in value if ch not in '"\r\n' and ch >= " ")
    return f'"{cleaned}"'


def fold(line: str) -> str:
    """Lines longer than 75 octets split into 75-octet pieces, continued with CRLF + space,
    never inside a multi-byte character (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    pieces, current, size, limit = [], [], 0, 75
    for char in line:
        length = len(char.encode("utf-8"))
        if size + length > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, 74  # a continuation line starts with one space
        current.append(char)
        size += length
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _date(day: dt.date) -> str:
    return f"{day:%Y%m%d}"


def _local(moment: dt.datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}"


def _times(event: CalendarEvent, tz_name: str) -> list[str]:
    if isinstance(event.start, dt.datetime):
        return [
            f"DTSTART;TZID={tz_name}:{_local(event.start)}",
            f"DTEND;TZID={tz_name}:{_local(event.end)}",  # type: ignore[arg-type]
        ]
    last = event.end if isinstance(event.end, dt.date) else event.start
    return [
        f"DTSTART;VALUE=DATE:{_date(event.start)}",
        f"DTEND;VALUE=DATE:{_date(last + dt.timedelta(days=1))}",  # DTEND is exclusive
    ]


def _vevent(event: CalendarEvent, tz_name: str, stamp: dt.datetime) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{event.uid}", f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}"]
    lines += _times(event, tz_name)
    lines.append(f"SUMMARY:{escape_text(event.summary)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.organiser_email:
        cn = f";CN={param_value(event.organiser_name)}" if event.organiser_name else ""
        lines.append(f"ORGANIZER{cn}:mailto:{event.organiser_email}")
    lines += ["SEQUENCE:0", "STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT"]
    return lines


def calendar_text(
    events: list[CalendarEvent], *, tz_name: str, stamp: dt.datetime, name: str = ""
) -> str:
    """A whole VCALENDAR (METHOD:PUBLISH) as text with CRLF line ends, folded."""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    timed = [e for e in events if isinstance(e.start, dt.datetime)]
    if timed:
        years = sorted({e.start.year for e in timed} | {e.end.year for e in timed})  # type: ignore[union-attr]
        lines += vtimezone_lines(tz_name, years[0], years[-1])
    for event in events:
        lines += _vevent(event, tz_name, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _day(value: object) -> dt.date | None:
    """An event's date as a date; None for text such as "Hösten 2026"."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _uid(issue: Issue, host: str, *parts: str) -> str:
    digest = hashlib.sha256("\0".join((issue.slug, *parts)).encode()).hexdigest()[:16]
    return f"{issue.slug}-{digest}@{host}"


def issue_calendars(issue: Issue, base_url: str, web_url: str) -> dict[str, str]:
    """File name -> .ics text: `invitation.ics` for an invitation, and `NN-name.ics` for each
    `events` section with at least one dated event (text dates such as "Hösten" are left out)."""
    host = urlsplit(base_url).hostname or "newsletter.invalid"
    stamp = dt.datetime.combine(issue.date, dt.time(0, 0), tzinfo=dt.UTC)
    files: dict[str, str] = {}
    invitation = issue.invitation
    if invitation is not None:
        event = CalendarEvent(
            uid=_uid(issue, host, "invitation"),
            start=invitation.start,
            end=invitation.end,
            summary=invitation.title,
            location=invitation.place,
            description=f"{issue.preheader}\n\n{web_url}",
            url=web_url,
            organiser_name=invitation.organiser_name,
            organiser_email=invitation.organiser_email,
        )
        files[INVITATION_FILE] = calendar_text(
            [event], tz_name=issue.timezone, stamp=stamp, name=invitation.title
        )
    for section in issue.sections:
        if section.layout != "events":
            continue
        events = [
            CalendarEvent(
                uid=_uid(issue, host, section.path.stem, first.isoformat(), item["title"]),
                start=first,
                end=max(first, _day(item.get("end")) or first),
                summary=item["title"],
                location=item.get("place", ""),
                description=item.get("time", ""),
                url=item.get("url", ""),
            )
            for item in section.options["events"]
            if (first := _day(item["date"])) is not None
        ]
        if events:
            title = section.options.get("title") or issue.title
            files[f"{section.path.stem}.ics"] = calendar_text(
                events, tz_name=issue.timezone, stamp=stamp, name=title
            )
    return files


def calendar_file_of(section_file: str) -> str:
    """The .ics file name an events section's link points to (`05-kalender.md` -> `.ics`)."""
    return section_file.rsplit(".", 1)[0] + ".ics"
