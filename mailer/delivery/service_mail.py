"""The durable outbox of service mail: rows written in the same transaction as the request that
causes them, claimed by a worker, retried until the server accepts or refuses them for good.

Confirmation, data-download and erasure-link mails and the welcome issue are service mail. Each
row holds what is needed to send (recipient and message bytes, unsigned). A sign-up is queued
as a `signup` request row, the same one write whatever the address's state, and becomes the
subscription and its confirmation mail when the worker takes it (`service_worker`). Rows are
only ever read here and in `service_worker`; audience reads counts and erases rows with plain
SQL (it may not import this wing).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Collection
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8

from sqlite_utils import Database

from ..store.db import transaction, utc_now
from .runlock import process_alive

# Retry after a 4xx or a dropped connection: 1 min, doubling up to 1 h (Postfix starts at
# 5 min; a person waiting for a confirmation link should not wait that long).
RETRY_DELAYS = (60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0)
# A claimed row is due again after this long if its worker vanished without an answer.
CLAIM_SECONDS = 600.0
MAIL_KINDS = ("confirmation", "export_link", "erasure_link", "welcome", "bounce_notice")


@dataclass(frozen=True)
class ServiceRow:
    id: int
    kind: str
    subscriber_id: int | None
    list_id: int | None
    recipient: str | None
    message: bytes | None
    request: dict | None
    attempts: int
    expires: str | None = None
    last_reply: str | None = None
    envelope_from: str | None = None  # None: the From address (a bounce notice has its VERP)


def owner() -> str:
    """Who holds a claim: `pid@host`, so a restart on this host can tell a dead owner."""
    return f"{os.getpid()}@{socket.gethostname()}"


def message_bytes(message: EmailMessage) -> bytes:
    """An `EmailMessage` as the CRLF bytes that are stored and sent. A message to an
    international address (RFC 6531) keeps its headers in UTF-8 (RFC 6532): it is only ever
    handed to a server that offers SMTPUTF8 (see smtputf8.py)."""
    recipients = message["To"].addresses if message["To"] else ()
    if any(not address.addr_spec.isascii() for address in recipients):
        return message.as_bytes(policy=SMTPUTF8)
    return message.as_bytes(policy=SMTP)


def queue_mail(
    db: Database,
    kind: str,
    recipient: str,
    message: EmailMessage | bytes,
    *,
    subscriber_id: int | None,
    list_id: int | None = None,
    once_key: str | None = None,
    expires_in: float | None = None,
    state: str = "waiting",
    reply: str | None = None,
    envelope_from: str | None = None,
) -> int | None:
    """Queue one mail; due at once. With `once_key`, a mail already queued (or sent) under the
    same key is not queued again: returns None. `expires_in`: seconds until the link in it stops
    working, after which it is not sent. Runs in the caller's transaction if any."""
    if kind not in MAIL_KINDS:
        raise ValueError(f"unknown service mail kind {kind!r}")
    data = message if isinstance(message, bytes) else message_bytes(message)
    if state != "waiting":
        data = None  # nothing will send it
    now = utc_now()
    expires = None if expires_in is None else utc_now(expires_in)
    values = [kind, state, subscriber_id, list_id, recipient, data, once_key, expires, reply]
    with transaction(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO service_mail (kind, state, subscriber_id, list_id, recipient, "
            "message, once_key, expires, last_reply, created, due_at, updated, envelope_from) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*values, now, now, now, envelope_from],
        )
    return cursor.lastrowid if cursor.rowcount else None


def queue_signup(db: Database, email: str, request: dict) -> int:
    """Write a sign-up request (the form's values, JSON) for the worker: one insert, whatever
    the address's state, so the page answers in the same time for everyone."""
    now = utc_now()
    with transaction(db):
        return db.execute(
            "INSERT INTO service_mail (kind, recipient, request, created, due_at, updated) "
            "VALUES ('signup', ?, ?, ?, ?, ?)",
            [email, json.dumps(request, ensure_ascii=False), now, now, now],
        ).lastrowid


def any_due(db: Database, skip: Collection[int] = ()) -> bool:
    """Whether a row is due (a plain read, no lock), leaving out `skip`."""
    skipped = f" AND id NOT IN ({', '.join('?' * len(skip))})" if skip else ""
    found = db.execute(
        f"SELECT 1 FROM service_mail WHERE state = 'waiting' AND due_at <= ?{skipped} LIMIT 1",  # noqa: S608 - only placeholders are formatted in
        [utc_now(), *skip],
    ).fetchone()
    return found is not None


def claim_next(
    db: Database, holder: str | None = None, skip: Collection[int] = ()
) -> ServiceRow | None:
    """Take the next due row (oldest first, none of `skip`: rows this pass has already tried)
    for this worker, or None when nothing is due.

    Claiming moves the row's due time `CLAIM_SECONDS` ahead and counts the attempt, so no other
    worker (another process on the same file) takes it meanwhile, and a worker that dies
    mid-send leaves it due again later rather than lost."""
    now = utc_now()
    with transaction(db):
        skipped = f" AND id NOT IN ({', '.join('?' * len(skip))})" if skip else ""
        row = db.execute(
            "SELECT id, kind, subscriber_id, list_id, recipient, message, request, attempts, "  # noqa: S608 - only placeholders are formatted in
            "expires, last_reply, envelope_from "
            f"FROM service_mail WHERE state = 'waiting' AND due_at <= ?{skipped} "
            "ORDER BY due_at, id LIMIT 1",
            [now, *skip],
        ).fetchone()
        if row is None:
            return None
        db.execute(
            "UPDATE service_mail SET due_at = ?, attempts = attempts + 1, claimed_by = ?, "
            "updated = ? WHERE id = ?",
            [utc_now(CLAIM_SECONDS), holder or owner(), now, row[0]],
        )
    request = json.loads(row[6]) if row[6] else None
    return ServiceRow(*row[:6], request, row[7] + 1, row[8], row[9], row[10])


def mark_sent(db: Database, row_id: int, reply: str) -> None:
    """Accepted: forget recipient and message; keep the row only if it guards a once-only mail."""
    now = utc_now()
    with transaction(db):
        db.execute("DELETE FROM service_mail WHERE id = ? AND once_key IS NULL", [row_id])
        db.execute(
            "UPDATE service_mail SET state = 'sent', recipient = NULL, message = NULL, "
            "request = NULL, last_reply = ?, claimed_by = NULL, sent_at = ?, updated = ? "
            "WHERE id = ?",
            [reply, now, now, row_id],
        )


def mark_retry(db: Database, row_id: int, reply: str, attempts: int, delays=RETRY_DELAYS) -> None:
    """A 4xx or a dropped connection: due again after the back-off for `attempts` tries."""
    delay = delays[min(attempts, len(delays)) - 1]
    with transaction(db):
        db.execute(
            "UPDATE service_mail SET due_at = ?, last_reply = ?, claimed_by = NULL, updated = ? "
            "WHERE id = ? AND state = 'waiting'",
            [utc_now(delay), reply, utc_now(), row_id],
        )


def mark_failed(db: Database, row_id: int, reply: str) -> None:
    """A 5xx (or a sign-up that cannot be made): failed for good, with the reply; the message
    itself is dropped (nothing will send it), the recipient kept for the coordinator."""
    with transaction(db):
        db.execute(
            "UPDATE service_mail SET state = 'failed', message = NULL, request = NULL, "
            "last_reply = ?, claimed_by = NULL, updated = ? WHERE id = ?",
            [reply, utc_now(), row_id],
        )


def drop(db: Database, row_id: int) -> None:
    """Remove a row that has nothing left to do (a sign-up made, a welcome no longer wanted)."""
    with transaction(db):
        db.execute("DELETE FROM service_mail WHERE id = ?", [row_id])


def resume(db: Database, holder: str | None = None) -> int:
    """At start: every waiting row is due now (a restart retries at once), except rows claimed
    by a live worker of another process. Returns how many rows wait."""
    host = socket.gethostname()
    me = holder or owner()
    with transaction(db):
        rows = db.execute(
            "SELECT id, claimed_by FROM service_mail WHERE state = 'waiting'"
        ).fetchall()
        due = [row_id for row_id, claim in rows if _released(claim, host, me)]
        now = utc_now()
        for row_id in due:
            db.execute(
                "UPDATE service_mail SET due_at = ?, claimed_by = NULL WHERE id = ?",
                [now, row_id],
            )
    return len(rows)


def _released(claim: str | None, host: str, me: str) -> bool:
    if not claim or claim == me:
        return True
    pid, _, claim_host = claim.partition("@")
    if claim_host != host or not pid.isdigit():
        return False  # another machine's worker: its claim runs out by itself
    return not process_alive(int(pid), "")


def next_due(db: Database) -> str | None:
    """When the next waiting row is due (ISO text), or None when nothing waits."""
    return db.execute("SELECT min(due_at) FROM service_mail WHERE state = 'waiting'").fetchone()[0]


def seconds_until(moment: str) -> float:
    """Seconds from now until an ISO time written by `utc_now` (negative when past)."""
    when = dt.datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return (when - dt.datetime.now(dt.UTC)).total_seconds()


def counts(db: Database) -> dict[str, int]:
    """Rows per state."""
    found = dict(db.execute("SELECT state, count(*) FROM service_mail GROUP BY state").fetchall())
    return {state: found.get(state, 0) for state in ("waiting", "sent", "failed")}
