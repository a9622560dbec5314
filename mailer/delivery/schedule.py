"""Scheduled sends, the records: `send ISSUE --at "2026-12-03 08:00"`, `scheduled list`, `cancel`.

`send --at` runs everything a send runs before mailing (build, check, plan, confirmation) and
then `record`s the issue, its list, segment and due time (stored in UTC, read and shown in
NEWSLETTER_TIMEZONE) instead of mailing. `scheduler.run_due` sends them when due. Times are
parsed against a `now` the caller may give, so tests control the clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from ..config import Settings
from ..errors import SendError
from ..store.db import open_db, transaction, utc_now

TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Scheduled:
    issue: str
    issue_dir: str
    list_name: str | None
    segment: str | None
    due_at: dt.datetime  # aware, UTC
    timezone: str
    state: str
    last_result: str | None

    def due_text(self) -> str:
        return local_text(self.due_at, self.timezone)


def parse_at(text: str, timezone: str, now: dt.datetime | None = None) -> dt.datetime:
    """`2026-12-03 08:00` read in `timezone`, as an aware UTC datetime; SendError when it is
    not such a time, does not exist (the hour skipped in spring) or is not in the future."""
    tz = zoneinfo.ZoneInfo(timezone)
    for pattern in TIME_FORMATS:
        try:
            naive = dt.datetime.strptime(text.strip(), pattern)
            break
        except ValueError:
            continue
    else:
        raise SendError(f'--at {text!r}: write a local time such as "2026-12-03 08:00"')
    local = naive.replace(tzinfo=tz)
    back = local.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    if back != naive:
        raise SendError(f"--at {text!r}: that time does not exist in {timezone} (clocks skip it)")
    moment = local.astimezone(dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    if moment <= now:
        raise SendError(
            f"--at {text!r} ({local_text(moment, timezone)}) is not in the future; "
            "send now without --at"
        )
    return moment


def local_text(moment: dt.datetime, timezone: str) -> str:
    """'2026-12-03 08:00 CET (Europe/Stockholm)'."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({timezone})"


def record(
    db: Database,
    *,
    issue: str,
    issue_dir: Path,
    list_name: str | None,
    segment: str | None,
    due_at: dt.datetime,
    timezone: str,
) -> None:
    """Schedule (or re-schedule) an issue; one schedule per issue."""
    now = utc_now()
    with transaction(db):
        db.execute(
            "INSERT INTO send_schedule (issue, issue_dir, list_name, segment, due_at, timezone, "
            "state, created, updated) VALUES (?, ?, ?, ?, ?, ?, 'scheduled', ?, ?) "
            "ON CONFLICT (issue) DO UPDATE SET issue_dir = excluded.issue_dir, "
            "list_name = excluded.list_name, segment = excluded.segment, "
            "due_at = excluded.due_at, timezone = excluded.timezone, state = 'scheduled', "
            "updated = excluded.updated, last_result = NULL",
            [
                issue,
                str(Path(issue_dir).resolve()),
                list_name,
                segment,
                _utc_text(due_at),
                timezone,
                now,
                now,
            ],
        )


def scheduled(db: Database, *, states: tuple[str, ...] | None = None) -> list[Scheduled]:
    """Every schedule (or those in `states`), by due time."""
    rows = db.execute(
        "SELECT issue, issue_dir, list_name, segment, due_at, timezone, state, last_result "
        "FROM send_schedule ORDER BY due_at, issue"
    ).fetchall()
    found = [
        Scheduled(i, d, lst, seg, dt.datetime.fromisoformat(due), tz, state, result)
        for i, d, lst, seg, due, tz, state, result in rows
    ]
    return [s for s in found if states is None or s.state in states]


def cancel(settings: Settings, issue: str) -> Scheduled:
    """Cancel the schedule of `issue` (a slug or an issue folder); SendError when none waits."""
    slug = Path(issue).name
    db = open_db(settings.db_path)
    try:
        with transaction(db):
            waiting = [s for s in scheduled(db, states=("scheduled",)) if s.issue == slug]
            if not waiting:
                raise SendError(
                    f"{slug} is not scheduled; `newsletter scheduled list` shows what is"
                )
            set_state(db, slug, "cancelled", "cancelled")
        return waiting[0]
    finally:
        db.close()


def list_all(settings: Settings) -> list[Scheduled]:
    db = open_db(settings.db_path)
    try:
        return scheduled(db)
    finally:
        db.close()


def set_state(db: Database, issue: str, state: str, text: str) -> None:
    db.execute(
        "UPDATE send_schedule SET state = ?, last_result = ?, updated = ? WHERE issue = ?",
        [state, text, utc_now(), issue],
    )


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")
