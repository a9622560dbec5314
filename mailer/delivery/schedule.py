"""Scheduled sends: `send ISSUE --at "2026-12-03 08:00"` records one, `scheduled run` sends what
is due (from cron or a systemd timer), `scheduled list` and `scheduled cancel` look and undo.

The time is local to the issue's `timezone:` (Europe/Stockholm unless issue.md says otherwise)
and stored as UTC. Scheduling builds the issue, runs the same checks `send` runs (the `gate`
the CLI passes) and counts the recipients, so a mistake shows now rather than at 08:00. At the
due time `run_due` checks again and calls `run_send`, which resumes like `send`: a schedule
whose run stopped (deferred messages, a pause, a crash) stays `sending` and the next
`scheduled run` continues it; nobody is mailed twice, because the ledger decides who is left.
Every function takes `now` (an aware datetime), so tests control the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..audience import subscribers
from ..audience.segments import parse_segment
from ..compose.localtime import LocalTimeError, check_exists, parse_local, zone
from ..config import Settings
from ..errors import IssueError, MailerError, SendError, SubscriberError
from ..store.db import open_db
from . import schedule_store as store
from .report import SendPlan, make_plan
from .schedule_store import TIME_FORMAT, Schedule, cancel_schedule, list_schedules
from .send import prepare_issue, run_send

__all__ = ["Schedule", "cancel_schedule", "due_time", "list_schedules", "run_due", "schedule_send"]


@dataclass(frozen=True)
class Outcome:
    """What `scheduled run` did with one due schedule."""

    schedule: Schedule
    state: str  # the schedule's state afterwards
    message: str


class GateError(SendError):
    """The checks found errors at the due time; the schedule needs a person."""


def _now(now: dt.datetime | None) -> dt.datetime:
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return moment.astimezone(dt.UTC)


def due_time(text: str, tz_name: str, now: dt.datetime | None = None) -> dt.datetime:
    """`2026-12-03 08:00` in zone `tz_name` as an aware local time; SendError when it cannot be
    read, does not exist (the hour skipped in spring) or is not in the future."""
    tz = zone(tz_name)
    try:
        local = parse_local(text)
        aware = check_exists(local, tz)  # type: ignore[arg-type]
    except LocalTimeError as exc:
        raise SendError(f"--at {text!r}: {exc}") from None
    current = _now(now).astimezone(tz)
    if aware <= current:
        raise SendError(
            f"--at {aware:%Y-%m-%d %H:%M %Z} ({tz_name}) is in the past (it is now "
            f"{current:%Y-%m-%d %H:%M %Z}); give a later time, or send now without --at"
        )
    return aware


def schedule_send(
    settings: Settings,
    issue_dir: Path,
    at: str,
    *,
    list_name: str | None = None,
    connections: int | None = None,
    rate: float | None = None,
    force: bool = False,
    segment: str | None = None,
    gate: Callable[[Path], None] | None = None,
    confirm: Callable[[SendPlan, Schedule], bool] | None = None,
    now: dt.datetime | None = None,
) -> tuple[Schedule, SendPlan]:
    """Check the issue now and record that it goes out at `at`; returns the schedule and the
    plan as counted now. `gate(issue_dir)` raises to stop (the CLI runs `newsletter check`);
    `confirm(plan, schedule)` returning False records nothing. `segment` is checked now and
    kept with the schedule, so the due run mails the same people a `send --segment` would."""
    settings.require_secret_key()
    chosen = parse_segment(segment) if segment else None
    issue_dir = Path(issue_dir).resolve()
    built = prepare_issue(issue_dir, settings)
    meta = built.meta
    slug = str(meta.get("slug") or issue_dir.name)
    tz_name = str(meta.get("timezone") or "Europe/Stockholm")
    due = due_time(at, tz_name, now)
    list_name = list_name or str(meta.get("list") or subscribers.DEFAULT_LIST)
    if gate is not None:
        gate(issue_dir)
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        try:
            plan = make_plan(
                db,
                settings,
                meta,
                slug,
                list_name,
                None,
                connections or settings.send_connections,
                settings.send_rate if rate is None else rate,
                segment=chosen,
                segment_ids=chosen.matching_ids(db) if chosen else None,
            )
        except SubscriberError as exc:
            raise SendError(
                f"{exc}; add people to it with `newsletter subscribers import FILE.csv "
                f"--list {list_name}`, or correct the list"
            ) from None
        schedule = Schedule(
            id=0,
            issue=slug,
            issue_dir=str(issue_dir),
            list_name=list_name,
            due_at=due.astimezone(dt.UTC).strftime(TIME_FORMAT),
            local_time=f"{due:%Y-%m-%d %H:%M}",
            timezone=tz_name,
            connections=connections,
            rate=rate,
            force=force,
            state="waiting",
            runs=0,
            last_result="",
            segment=chosen.text if chosen else None,
        )
        store.refuse_second(db, slug, list_name)
        if confirm is not None and not confirm(plan, schedule):
            raise SendError("cancelled; nothing was scheduled")
        return store.insert(db, schedule), plan
    finally:
        db.close()


def run_due(
    settings: Settings,
    *,
    gate: Callable[[Path, bool], None] | None = None,
    now: dt.datetime | None = None,
    notify: Callable[[str], None] = lambda text: None,
    only: Callable[[Schedule], bool] | None = None,
    **send_options: Any,
) -> list[Outcome]:
    """Send every schedule that is due at `now` (or was begun and has messages left).

    Non-interactive: no confirmation; `gate(issue_dir, force)` runs the checks again (the issue
    may have changed since it was scheduled) and its errors mark the schedule `failed`, as does
    an issue that no longer builds. Other errors (server unreachable, a pause, another run
    holding the issue) leave it for the next run. `send_options` go to `run_send`; `only`
    picks the schedules this run takes (`serve` takes those of issues sent from a laptop).
    """
    cutoff = _now(now).strftime(TIME_FORMAT)
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        due = store.select(db, "state IN ('waiting', 'sending') AND due_at <= ?", [cutoff])
        outcomes = []
        for schedule in due:
            if (only is not None and not only(schedule)) or not store.claim(db, schedule):
                continue

            def preflight(issue_dir: Path, force: bool = schedule.force) -> None:
                if gate is None:
                    return
                try:
                    gate(issue_dir, force)
                except MailerError as exc:
                    raise GateError(str(exc)) from None

            try:
                summary = run_send(
                    settings,
                    Path(schedule.issue_dir),
                    list_name=schedule.list_name,
                    connections=schedule.connections,
                    rate=schedule.rate,
                    segment=schedule.segment,
                    preflight=preflight,
                    notify=notify,
                    **send_options,
                )
            except (GateError, IssueError) as exc:
                state, message = "failed", f"not sent: {exc}"
            except MailerError as exc:
                state, message = "sending", f"stopped, the next run resumes: {exc}"
            else:
                done = not summary.remaining and summary.stopped is None
                state = "done" if done else "sending"
                message = summary.line() + ("" if done else "; the next run sends the rest")
            store.finish(db, schedule, state, message)
            outcomes.append(Outcome(schedule, state, message))
        return outcomes
    finally:
        db.close()
