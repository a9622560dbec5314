"""Sends queued through the API: a laptop uploads an issue, the server checks and queues it here,
and the worker of `newsletter serve` (`remote_worker`) runs it with the same `run_send` as a
local send.

At most one send per issue and list is queued or running (a unique index): a second laptop is
told which token holds it and since when, and the same token queueing the same bundle again
gets the send already there (a re-run after a lost answer is not a second send). The ledger
decides who is mailed, as for a local send; this table only says what to run and how far it got.
"""

from __future__ import annotations

import ipaddress
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..audience import subscribers
from ..config import Settings
from ..errors import SendError
from ..store.db import open_db, transaction, utc_now
from . import ledger
from .pacing import Pacer
from .report import SendPlan
from .send import plan_send, prepare_issue

COLUMNS = (
    "id, issue, list_name, bundle_sha256, token_name, options, state, planned, done_before, "
    "last_result, queued_at, updated_at"
)
DONE_STATES = ("sent", "failed", "skipped")


class SendHeld(SendError):
    """Another token queued or runs the send of this issue to this list."""


@dataclass
class Job:
    """One row of `remote_sends`."""

    id: int
    issue: str
    list_name: str
    bundle_sha256: str
    token_name: str
    options: dict[str, Any] = field(default_factory=dict)
    state: str = "queued"
    planned: int = 0
    done_before: int = 0
    last_result: str = ""
    queued_at: str = ""
    updated_at: str = ""
    created: bool = False  # queued by this call (not found already queued)

    @classmethod
    def from_row(cls, row: tuple) -> Job:
        values = list(row)
        values[5] = json.loads(values[5] or "{}")
        return cls(*values)

    def holder(self) -> str:
        return f"token {self.token_name!r} since {self.queued_at[:19].replace('T', ' ')} UTC"


def select(db, where: str, params: list) -> list[Job]:
    sql = f"SELECT {COLUMNS} FROM remote_sends WHERE {where} ORDER BY id"  # noqa: S608
    return [Job.from_row(row) for row in db.execute(sql, params).fetchall()]


def active(db, issue: str, list_name: str) -> Job | None:
    jobs = select(
        db, "issue = ? AND list_name = ? AND state IN ('queued', 'sending')", [issue, list_name]
    )
    return jobs[0] if jobs else None


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_gate(settings: Settings, meta: dict, *, force: bool = False) -> None:
    """The server's part of the send gate: its sender and base URL, and a bundle built for
    this base URL (its links must lead here). The list is checked by the plan."""
    errors = []
    if settings.sender_missing:
        errors.append("NEWSLETTER_FROM is not set on the server; set it in the server's .env")
    if _is_loopback(settings.base_url):
        errors.append(
            f"the server's NEWSLETTER_BASE_URL={settings.base_url} is on the server itself: "
            "nobody could follow the links; set its public address in the server's .env"
        )
    built_for = str(meta.get("base_url") or "").rstrip("/")
    if built_for != settings.base_url.rstrip("/"):
        errors.append(
            f"the issue was built for {built_for or '(no base URL)'} but the server serves "
            f"{settings.base_url}; set NEWSLETTER_BASE_URL={settings.base_url} in the laptop's "
            ".env and send again"
        )
    if errors and not force:
        raise SendError("; ".join(errors) + "; nothing was queued")


def queue_send(
    settings: Settings,
    issue_dir: Path,
    *,
    token_name: str,
    sha256: str,
    list_name: str | None = None,
    segment: str | None = None,
    connections: int | None = None,
    rate: float | None = None,
    retry_failed: bool = False,
    force: bool = False,
    dry_run: bool = False,
    limit: int | None = None,
) -> tuple[Job | None, SendPlan]:
    """Check the stored issue and queue its send; returns the job (None when nobody is left to
    mail, or with `dry_run`, which only answers the plan) and the plan a local send shows."""
    built = prepare_issue(issue_dir, settings)
    server_gate(settings, built.meta, force=force)
    plan = plan_send(
        settings,
        issue_dir,
        list_name=list_name,
        connections=connections,
        rate=rate,
        retry_failed=retry_failed,
        segment=segment,
        limit=limit,
    )
    if plan.recipients == 0 and plan.already_sent == 0 and plan.pending == 0:
        raise SendError(
            f"list {plan.list_name!r} has no active subscribers: nobody would get the issue; "
            f"add people: newsletter subscribers import FILE.csv --list {plan.list_name}"
        )
    db = open_db(settings.db_path)
    try:
        _quota_warning(db, settings, plan)
        running = active(db, plan.issue, plan.list_name)
        if running and (running.token_name != token_name or running.bundle_sha256 != sha256):
            raise SendHeld(
                f"{plan.issue} to list {plan.list_name} is already being sent, by "
                f"{running.holder()}; `newsletter send-status` shows how far it got"
            )
        if running or dry_run or plan.recipients == 0:
            return running, plan
        options = {
            "connections": connections,
            "rate": rate,
            "segment": segment,
            "retry_failed": retry_failed,
            "limit": limit,
        }
        list_pk = subscribers.list_id(db, plan.list_name)
        counts = ledger.counts(db, plan.issue, list_pk)
        now = utc_now()
        try:
            with transaction(db):
                db.execute(
                    "INSERT INTO remote_sends (issue, list_name, bundle_sha256, token_name, "
                    "options, planned, done_before, queued_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        plan.issue,
                        plan.list_name,
                        sha256,
                        token_name,
                        json.dumps(options),
                        plan.recipients,
                        sum(counts[state] for state in DONE_STATES),
                        now,
                        now,
                    ],
                )
        except sqlite3.IntegrityError:  # queued by someone else a moment ago
            return queue_send(
                settings,
                issue_dir,
                token_name=token_name,
                sha256=sha256,
                list_name=plan.list_name,
                segment=segment,
                connections=connections,
                rate=rate,
                retry_failed=retry_failed,
                force=force,
                limit=limit,
            )
        job = active(db, plan.issue, plan.list_name)
        if job is not None:
            job.created = True
        return job, plan
    finally:
        db.close()


def refuse_replacing(settings: Settings, issue: str, sha256: str) -> None:
    """Before another build of `issue` replaces the stored one: refuse while a send of the
    stored one is queued or running (it would otherwise mail the new build)."""
    db = open_db(settings.db_path)
    try:
        for job in select(db, "issue = ? AND state IN ('queued', 'sending')", [issue]):
            if job.bundle_sha256 != sha256:
                raise SendHeld(
                    f"{issue} is being sent to list {job.list_name}, by {job.holder()}; "
                    "its build cannot change until that send ends (`newsletter send-status`)"
                )
    finally:
        db.close()


def _quota_warning(db, settings: Settings, plan: SendPlan) -> None:
    """The server's quota in the plan: when SEND_RATE_PER_HOUR/DAY is used up now, the send
    is queued all the same and starts when the quota frees a message (as a local send waits)."""
    now = time.time()
    next_slot, minutes = ledger.load_pacing(db, now)
    pacer = Pacer(
        settings.send_rate,
        settings.send_rate_per_hour,
        settings.send_rate_per_day,
        next_slot=next_slot,
        minute_counts=minutes,
    )
    wait, which = pacer.quota_wait(now)
    if wait > 0 and plan.recipients:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(now + wait))
        plan.warnings.append(f"{which} is used up: the send starts at about {when} (server time)")


def progress(settings: Settings, issue: str, list_name: str | None = None) -> dict | None:
    """The latest send of `issue` (to `list_name`): state, planned, done so far, last result."""
    db = open_db(settings.db_path)
    try:
        where, params = "issue = ?", [issue]
        if list_name:
            where, params = where + " AND list_name = ?", [issue, list_name]
        jobs = select(db, where, params)
        if not jobs:
            return None
        job = jobs[-1]
        try:
            counts = ledger.counts(db, job.issue, subscribers.list_id(db, job.list_name))
        except Exception:  # the list was deleted since: nothing more to count
            counts = dict.fromkeys(ledger.STATES, 0)
        done = sum(counts[state] for state in DONE_STATES) - job.done_before
        return {
            "id": job.id,
            "issue": job.issue,
            "list": job.list_name,
            "state": job.state,
            "planned": job.planned,
            "done": max(0, min(done, job.planned)),
            "counts": counts,
            "last_result": job.last_result,
            "token_name": job.token_name,
            "queued_at": job.queued_at,
        }
    finally:
        db.close()


def finish(db, job: Job, state: str, message: str) -> None:
    with transaction(db):
        db.execute(
            "UPDATE remote_sends SET state = ?, last_result = ?, runner_pid = NULL, "
            "runner_start = NULL, updated_at = ? WHERE id = ? AND state = 'sending'",
            [state, message, utc_now(), job.id],
        )
