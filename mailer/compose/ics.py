"""Calendar files of an issue (RFC 5545): the `invitation` of issue.md and the events layout.

`invitation:` in issue.md (start, end, place, organiser; optional title, description, tz,
attach_ics) becomes build/invitation.ics; the dated events of `events` sections become
build/events.ics. Both carry a VTIMEZONE for the issue's time zone (Europe/Stockholm unless
`tz` says otherwise) limited to the years used, so Outlook, Google Calendar and Apple Calendar
agree. UID and DTSTAMP derive from the issue (slug, sender domain, issue date), so a rebuild of
the same sources gives the same bytes (METHOD:PUBLISH: an entry to add, not a meeting request).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from ..errors import IssueError
from .frontmatter import FrontMatter
from .sources import where

DEFAULT_TZ = "Europe/Stockholm"
INVITATION_FILE = "invitation.ics"
EVENTS_FILE = "events.ics"
INVITATION_KEYS = ("start", "end", "place", "organiser", "title", "description", "tz", "attach_ics")
PRODID = "-//newsletter//calendar//EN"
# "kl. 9–12", "18.00–20.30", "13:00 - 16:00": one range of hours in an event's free-text time
TIME_RANGE = re.compile(
    r"(?<![\d.:])(\d{1,2})(?:[.:](\d{2}))?\s*[–-]\s*(\d{1,2})(?:[.:](\d{2}))?(?![\d.:])"
)


@dataclass(frozen=True)
class Invitation:
    """A checked `invitation:`; start and end are aware datetimes in `tz`."""

    title: str
    start: dt.datetime
    end: dt.datetime
    place: str
    organiser_name: str
    organiser_email: str
    description: str
    tz: str
    attach_ics: bool


def read_invitation(fm: FrontMatter, default_title: str) -> Invitation | None:
    """The `invitation:` mapping of issue.md, checked; IssueError naming the line."""
    data = fm.data.get("invitation")
    if data is None:
        return None
    line = fm.line_of("invitation")
    here = where(fm.path, line)
    if not isinstance(data, dict):
        raise IssueError(f"{here}: invitation needs keys such as start, end, place, organiser")
    unknown = sorted(set(data) - set(INVITATION_KEYS))
    if unknown:
        raise IssueError(
            f"{here}: unknown invitation key {unknown[0]!r}; use {', '.join(INVITATION_KEYS)}"
        )
    for key in ("start", "end", "place", "organiser"):
        if not data.get(key):
            raise IssueError(f"{here}: the invitation needs {key!r} (e.g. start: 2026-12-10 18:00)")
    tz_name = str(data.get("tz") or DEFAULT_TZ)
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise IssueError(f"{here}: unknown time zone {tz_name!r}; e.g. Europe/Stockholm") from None
    start = _moment(data["start"], tz, here, "start")
    end = _moment(data["end"], tz, here, "end")
    if end <= start:
        raise IssueError(f"{here}: the invitation ends ({end:%Y-%m-%d %H:%M}) before it starts")
    name, address = parseaddr(str(data["organiser"]))
    if "@" not in address or any(c in str(data["organiser"]) for c in "\r\n"):
        raise IssueError(
            f"{here}: organiser {data['organiser']!r}: write a name and address such as "
            "'Anna Berg <anna@example.se>'"
        )
    attach = data.get("attach_ics", False)
    if isinstance(attach, str) and attach.strip().lower() in ("true", "false"):
        attach = attach.strip().lower() == "true"  # front matter keeps true/false as text
    if not isinstance(attach, bool):
        raise IssueError(f"{here}: attach_ics is true or false, not {attach!r}")
    return Invitation(
        title=_text(data.get("title") or default_title, here, "title"),
        start=start,
        end=end,
        place=_text(data["place"], here, "place"),
        organiser_name=name.strip(),
        organiser_email=address.strip(),
        description=_text(data.get("description") or "", here, "description", multiline=True),
        tz=tz_name,
        attach_ics=attach,
    )


def _moment(value: Any, tz: zoneinfo.ZoneInfo, here: str, key: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        raise IssueError(f"{here}: invitation {key} needs a time too, e.g. {value} 18:00")
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
        except ValueError:
            raise IssueError(
                f"{here}: invitation {key} {value!r} is not a time like 2026-12-10 18:00"
            ) from None
    if moment.tzinfo is not None:  # YAML gives UTC for an offset; show it in the issue's zone
        return moment.astimezone(tz)
    return moment.replace(tzinfo=tz)


def _text(value: Any, here: str, key: str, multiline: bool = False) -> str:
    text = str(value).strip()
    if not multiline and any(c in text for c in "\r\n"):
        raise IssueError(f"{here}: invitation {key} is one line")
    return text


def invitation_ics(invitation: Invitation, *, slug: str, domain: str, issued: dt.date, url: str):
    """build/invitation.ics as bytes."""
    from icalendar import Calendar, Event, vCalAddress, vText

    calendar = _calendar(Calendar)
    event = Event()
    event.add("uid", f"{slug}-invitation@{domain}")
    event.add("dtstamp", _stamp(issued))
    event.add("dtstart", invitation.start)
    event.add("dtend", invitation.end)
    event.add("summary", invitation.title)
    event.add("location", invitation.place)
    if invitation.description:
        event.add("description", invitation.description)
    event.add("url", url)
    organiser = vCalAddress(f"mailto:{invitation.organiser_email}")
    if invitation.organiser_name:
        organiser.params["cn"] = vText(invitation.organiser_name)
    event["organizer"] = organiser
    calendar.add_component(event)
    return _finish(calendar, [invitation.start.year, invitation.end.year], invitation.tz)


def events_ics(events: list[tuple[str, dict[str, Any]]], *, slug, domain, issued, tz_name, url):
    """build/events.ics for (section stem, event) pairs with a real date; None when none has."""
    from icalendar import Calendar, Event

    dated = [(stem, e) for stem, e in events if isinstance(e.get("date"), dt.date)]
    if not dated:
        return None
    tz = zoneinfo.ZoneInfo(tz_name)
    calendar = _calendar(Calendar)
    years = []
    for index, (stem, item) in enumerate(dated, start=1):
        event = Event()
        event.add("uid", f"{slug}-{stem}-{index}@{domain}")
        event.add("dtstamp", _stamp(issued))
        start, end = item["date"], item.get("end") if isinstance(item.get("end"), dt.date) else None
        hours = _hours(str(item.get("time") or ""))
        if hours and end in (None, start):
            (h1, m1), (h2, m2) = hours
            event.add("dtstart", dt.datetime(start.year, start.month, start.day, h1, m1, tzinfo=tz))
            event.add("dtend", dt.datetime(start.year, start.month, start.day, h2, m2, tzinfo=tz))
            years.append(start.year)
        else:  # all day; DTEND is exclusive (RFC 5545 3.6.1)
            event.add("dtstart", start)
            event.add("dtend", (end or start) + dt.timedelta(days=1))
        event.add("summary", str(item["title"]))
        if item.get("place"):
            event.add("location", str(item["place"]))
        if item.get("time"):
            event.add("description", str(item["time"]))
        event.add("url", str(item.get("url") or url))
        calendar.add_component(event)
    return _finish(calendar, years, tz_name)


def _hours(text: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The one range of hours in `text`, or None (none, several, or not a real time)."""
    found = TIME_RANGE.findall(text)
    if len(found) != 1:
        return None
    h1, m1, h2, m2 = (int(x or 0) for x in found[0])
    if not (0 <= h1 < 24 and 0 <= h2 < 24 and m1 < 60 and m2 < 60) or (h2, m2) <= (h1, m1):
        return None
    return (h1, m1), (h2, m2)


def _calendar(calendar_class):
    calendar = calendar_class()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    return calendar


def _finish(calendar, years: list[int], tz_name: str) -> bytes:
    """Add the VTIMEZONE (only the years used, so the file stays small) first, then serialise."""
    from icalendar import Timezone

    if years:
        timezone = Timezone.from_tzid(
            tz_name, first_date=dt.date(min(years), 1, 1), last_date=dt.date(max(years) + 1, 1, 1)
        )
        calendar.subcomponents.insert(0, timezone)
    return calendar.to_ical()


def _stamp(issued: dt.date) -> dt.datetime:
    """DTSTAMP: the issue's date at midnight UTC, the same on every rebuild."""
    return dt.datetime(issued.year, issued.month, issued.day, tzinfo=dt.UTC)


def when_text(invitation: Invitation, language: str) -> str:
    """'10 december 2026, 18:00–20:30' (times in the invitation's zone; the date once when the
    invitation starts and ends on the same day)."""
    from ..locale import format_date

    start, end = invitation.start, invitation.end
    if start.date() == end.date():
        return f"{format_date(language, start.date())}, {start:%H:%M}–{end:%H:%M}"
    return (
        f"{format_date(language, start.date())} {start:%H:%M} – "
        f"{format_date(language, end.date())} {end:%H:%M}"
    )


def calendar_files(issue, settings) -> dict[str, bytes]:
    """{file name: bytes} of the calendar files an issue's build holds (maybe none)."""
    base = settings.base_url.rstrip("/")
    web_url = f"{base}/archive/{issue.slug}/"
    domain = settings.sender_domain
    files: dict[str, bytes] = {}
    if issue.invitation is not None:
        files[INVITATION_FILE] = invitation_ics(
            issue.invitation, slug=issue.slug, domain=domain, issued=issue.date, url=web_url
        )
    events = [
        (section.path.stem, event)
        for section in issue.sections
        if section.layout == "events"
        for event in section.options.get("events", [])
    ]
    tz = issue.invitation.tz if issue.invitation else DEFAULT_TZ
    data = events_ics(
        events, slug=issue.slug, domain=domain, issued=issue.date, tz_name=tz, url=web_url
    )
    if data is not None:
        files[EVENTS_FILE] = data
    return files
