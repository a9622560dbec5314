"""The `scheduled_sends` table: one row per scheduled send, read, claimed and finished here.

`schedule.py` decides what to schedule and when to send; this module only keeps the rows. A
row is `waiting` until a `scheduled run` claims it (`sending`, with that process's pid and
host), then `done`, `failed` or, by hand, `cancelled`.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compose.localtime import zone
from ..config import Settings
from ..errors import SendError
from ..store.db import open_db, transaction, utc_now
from .runlock import process_alive

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the database's one time format (store.db.utc_now)


@dataclass(frozen=True)
class Schedule:
    """One row of `scheduled_sends`."""

    id: int
    issue: str
    issue_dir: str
    list_name: str
    due_at: str
    local_time: str
    timezone: str
    connections: int | None
    rate: float | None
    force: bool
    state: str
    runs: int
    last_result: str
    segment: str | None = None  # canonical text; None = the whole list

    @property
    def due(self) -> dt.datetime:
        return dt.datetime.strptime(self.due_at, TIME_FORMAT).replace(tzinfo=dt.UTC)

    def when(self) -> str:
        """`2026-12-03 08:00 CET (Europe/Stockholm)`."""
        local = self.due.astimezone(zone(self.timezone))
        return f"{local:%Y-%m-%d %H:%M %Z} ({self.timezone})"


def _row(row: tuple, columns: list[str]) -> Schedule:
    data: dict[str, Any] = dict(zip(columns, row, strict=True))
    data["force"] = bool(data["force"])
    data["last_result"] = data["last_result"] or ""
    for key in ("created_at", "updated_at", "runner_pid", "runner_host"):
        data.pop(key)
    return Schedule(**data)


def select(db, where: str, params: list) -> list[Schedule]:
    cursor = db.execute(f"SELECT * FROM scheduled_sends WHERE {where} ORDER BY due_at, id", params)  # noqa: S608 - fixed clauses
    columns = [c[0] for c in cursor.description]
    return [_row(row, columns) for row in cursor.fetchall()]


def refuse_second(db, slug: str, list_name: str) -> None:
    taken = select(
        db, "issue = ? AND list_name = ? AND state IN ('waiting', 'sending')", [slug, list_name]
    )
    if taken:
        raise SendError(
            f"{slug} is already scheduled for list {list_name} at {taken[0].when()}; "
            f"cancel that first: newsletter scheduled cancel {slug}"
        )


def insert(db, schedule: Schedule) -> Schedule:
    """Record `schedule` (its id and counters are assigned here), refusing a second one."""
    stamp = utc_now()
    with transaction(db):
        refuse_second(db, schedule.issue, schedule.list_name)  # another process may be quicker
        cursor = db.execute(
            "INSERT INTO scheduled_sends (issue, issue_dir, list_name, due_at, local_time, "
            "timezone, connections, rate, force, segment, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                schedule.issue,
                schedule.issue_dir,
                schedule.list_name,
                schedule.due_at,
                schedule.local_time,
                schedule.timezone,
                schedule.connections,
                schedule.rate,
                int(schedule.force),
                schedule.segment,
                stamp,
                stamp,
            ],
        )
    return select(db, "id = ?", [cursor.lastrowid])[0]


def list_schedules(settings: Settings, *, everything: bool = False) -> list[Schedule]:
    """Waiting and running schedules (with `everything`, done, failed and cancelled ones too)."""
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        if everything:
            return select(db, "1 = 1", [])
        return select(db, "state IN ('waiting', 'sending')", [])
    finally:
        db.close()


def cancel_schedule(
    settings: Settings, issue: str, *, list_name: str | None = None
) -> list[Schedule]:
    """Cancel the schedules of `issue` (a slug or an issue folder) that have not finished.

    A waiting one never sends. One whose send has begun (state `sending`: stopped with messages
    left, or running now) is not continued by `scheduled run` any more; a run in progress ends
    its current pass, and `newsletter send ISSUE` can still send the rest by hand.
    """
    slug = Path(issue).name or str(issue)
    where, params = "issue = ? AND state IN ('waiting', 'sending')", [slug]
    if list_name:
        where, params = where + " AND list_name = ?", [slug, list_name]
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        with transaction(db):
            found = select(db, where, params)
            if not found:
                raise SendError(
                    f"{slug}: nothing is scheduled; `newsletter scheduled list` shows what is"
                )
            db.execute(
                f"UPDATE scheduled_sends SET state = 'cancelled', updated_at = ? WHERE {where}",  # noqa: S608 - fixed clauses
                [utc_now(), *params],
            )
        return found
    finally:
        db.close()


def claim(db, schedule: Schedule) -> bool:
    """Take the schedule for this process, unless another live `scheduled run` on this host is
    still sending it (cron starting the next run during a long send): that one is left alone.
    A runner on another host is left to `run_send`'s own per-issue lock."""
    host = socket.gethostname()
    with transaction(db):
        row = db.execute(
            "SELECT state, runner_pid, runner_host FROM scheduled_sends WHERE id = ?",
            [schedule.id],
        ).fetchone()
        if row is None or row[0] not in ("waiting", "sending"):
            return False
        pid, runner_host = row[1], row[2]
        if pid and pid != os.getpid() and runner_host == host and process_alive(pid, ""):
            return False
        db.execute(
            "UPDATE scheduled_sends SET state = 'sending', runs = runs + 1, runner_pid = ?, "
            "runner_host = ?, updated_at = ? WHERE id = ?",
            [os.getpid(), host, utc_now(), schedule.id],
        )
    return True


def finish(db, schedule: Schedule, state: str, message: str) -> None:
    with transaction(db):
        db.execute(
            "UPDATE scheduled_sends SET state = ?, last_result = ?, runner_pid = NULL, "
            "runner_host = NULL, updated_at = ? WHERE id = ? AND state = 'sending'",
            [state, message, utc_now(), schedule.id],
        )  # a cancel during the run stays cancelled
