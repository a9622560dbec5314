"""The `invitation:` front matter of issue.md (start, end, place, organiser), read and checked.

An invitation is shown as a box at the top of the email and the web page, and becomes
`build/invitation.ics`, which the box links to ("Lägg till i kalendern") and which
`attach_ics: true` attaches to the mail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from ..errors import IssueError
from .frontmatter import FrontMatter
from .localtime import LocalTimeError, check_exists, parse_end, parse_local, read_zone, zone
from .sources import where

INVITATION_KEYS = ("title", "start", "end", "place", "organiser")
_CONTROL = set("\r\n\t\x00")
_TRUE, _FALSE = ("true", "yes", "on"), ("false", "no", "off", "")


@dataclass(frozen=True)
class Invitation:
    """One meeting: wall-clock times in `timezone` (dates for an all-day event)."""

    title: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    place: str
    organiser_name: str
    organiser_email: str
    timezone: str

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)


@dataclass(frozen=True)
class CalendarOptions:
    """What issue.md says about calendars: the zone, the invitation, and whether to attach it."""

    timezone: str
    invitation: Invitation | None
    attach_ics: bool


def _text(fm: FrontMatter, data: dict, key: str) -> str:
    value, line = data.get(key), fm.sub_line("invitation", key)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise IssueError(f"{where(fm.path, line)}: invitation {key} must be plain text")
    text = str(value).strip()
    if _CONTROL & set(text):
        raise IssueError(f"{where(fm.path, line)}: invitation {key} is one line of text")
    return text


def _shown(moment: dt.date) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if isinstance(moment, dt.datetime) else moment.isoformat()


def _organiser(fm: FrontMatter, data: dict, site: dict[str, Any]) -> tuple[str, str]:
    """`Name <address>`; without the key, the organisation and its `email:`."""
    written = _text(fm, data, "organiser")
    line = fm.sub_line("invitation", "organiser")
    if not written:
        return str(site.get("organisation") or ""), str(site.get("email") or "")
    name, address = parseaddr(written)
    if "@" not in address or any(ch in address for ch in " <>\"'"):
        raise IssueError(
            f"{where(fm.path, line)}: organiser {written!r}: write a name and an e-mail address, "
            "e.g. 'Omar Hassan <omar.hassan@example.se>' (calendars need the address)"
        )
    return name, address


def _invitation(fm: FrontMatter, tz_name: str, site: dict[str, Any], default_title: str):
    data = fm.data.get("invitation")
    line = fm.line_of("invitation")
    if not isinstance(data, dict):
        raise IssueError(
            f"{where(fm.path, line)}: invitation holds indented keys: start, end, place, "
            "organiser (see docs/issue-format.md)"
        )
    unknown = sorted(set(map(str, data)) - set(INVITATION_KEYS))
    if unknown:
        raise IssueError(
            f"{where(fm.path, fm.sub_line('invitation', unknown[0]))}: unknown invitation key "
            f"{unknown[0]!r}; "
            f"use {', '.join(INVITATION_KEYS)}"
        )
    for key in ("start", "end"):
        if data.get(key) in (None, ""):
            raise IssueError(
                f"{where(fm.path, line)}: invitation needs {key}, e.g. "
                f"'{key}: 2026-10-07 {'10:00' if key == 'start' else '16:00'}'"
            )
    tz = zone(tz_name)
    key = "start"
    try:
        start = parse_local(data["start"], allow_date=True)
        if isinstance(start, dt.datetime):
            check_exists(start, tz)
        key = "end"
        end = parse_end(data["end"], start)
        if isinstance(end, dt.datetime):
            check_exists(end, tz)
    except LocalTimeError as exc:
        shown = where(fm.path, fm.sub_line("invitation", key))
        raise IssueError(f"{shown}: {key}: {exc}") from None
    if end < start or (isinstance(start, dt.datetime) and end == start):
        raise IssueError(
            f"{where(fm.path, fm.sub_line('invitation', 'end'))}: the end ({_shown(end)}) must "
            f"come after the start ({_shown(start)}); correct start or end"
        )
    name, address = _organiser(fm, data, site)
    return Invitation(
        title=_text(fm, data, "title") or default_title,
        start=start,
        end=end,
        place=_text(fm, data, "place"),
        organiser_name=name,
        organiser_email=address,
        timezone=tz_name,
    )


def read_calendar_options(
    fm: FrontMatter, site: dict[str, Any], default_title: str
) -> CalendarOptions:
    """`timezone:`, `invitation:` and `attach_ics:` of issue.md, with file:line errors."""
    tz_name = read_zone(fm.data.get("timezone"), fm.path, fm.line_of("timezone"))
    invitation = None
    if "invitation" in fm.data:
        invitation = _invitation(fm, tz_name, site, default_title)
    flag = str(fm.data.get("attach_ics") or "").strip().lower()
    if flag not in _TRUE + _FALSE:
        raise IssueError(f"{where(fm.path, fm.line_of('attach_ics'))}: attach_ics is true or false")
    attach = flag in _TRUE
    if attach and invitation is None:
        raise IssueError(
            f"{where(fm.path, fm.line_of('attach_ics'))}: attach_ics attaches the invitation's "
            "calendar file; add 'invitation:' with start and end, or remove attach_ics"
        )
    return CalendarOptions(tz_name, invitation, attach)
