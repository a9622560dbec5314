"""`newsletter scheduled run`: send every scheduled issue whose time has come.

Meant for cron or a systemd timer. Each due issue goes through `run_send`, so it resumes exactly
like `send`: a run cut short (SMTP down, a pause, a crash) stays scheduled and the next run goes
on. The issue is checked again first: one whose check fails, or that no longer builds, is
marked `failed` with the reason and not mailed. `now` is a parameter: tests control the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import IssueError, MailerError, SendError, SubscriberError
from ..store.db import open_db, transaction
from . import schedule
from .send import run_send


class CheckFailed(SendError):
    """The issue's check found errors when its scheduled time came."""


@dataclass
class RunResult:
    issue: str
    state: str  # "done" | "scheduled" (to go on next time) | "failed"
    text: str


def run_due(
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    send: Callable[..., object] | None = None,
    preflight: Callable[[Path], None] | None = None,
    notify: Callable[[str], None] = lambda text: None,
) -> list[RunResult]:
    """Send every scheduled issue whose time has come (`now`, default the real time)."""
    send = send or run_send
    now = now or dt.datetime.now(dt.UTC)
    db = open_db(settings.db_path)
    try:
        due = [s for s in schedule.scheduled(db, states=("scheduled",)) if s.due_at <= now]
    finally:
        db.close()
    results = []
    for item in due:
        notify(f"{item.issue}: due {item.due_text()}; sending.")
        results.append(_run_one(settings, item, send, preflight))
    return results


def _run_one(settings: Settings, item: schedule.Scheduled, send, preflight) -> RunResult:
    def checked(issue_dir: Path) -> None:
        if preflight is None:
            return
        try:
            preflight(issue_dir)
        except MailerError as exc:
            raise CheckFailed(str(exc)) from None

    state, text = "scheduled", ""
    try:
        summary = send(
            settings,
            Path(item.issue_dir),
            list_name=item.list_name,
            segment=item.segment,
            preflight=checked,
        )
        text = summary.line()
        if not summary.remaining and summary.stopped is None:
            state = "done"
    except CheckFailed as exc:
        state, text = "failed", f"not sent: the check failed: {exc}"
    except (IssueError, SubscriberError) as exc:  # the issue or its list broke since: fix it
        state, text = "failed", f"not sent: {exc}"
    except MailerError as exc:  # SMTP down, locked by a running send ...: try again next run
        text = f"not finished: {exc}"
    db = open_db(settings.db_path)
    try:
        with transaction(db):
            schedule.set_state(db, item.issue, state, text)
    finally:
        db.close()
    return RunResult(item.issue, state, text)
