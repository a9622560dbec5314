"""The send ledger: one row per issue and recipient, the record that makes every send resumable.

A row moves `queued` -> `sending` (committed before the message goes out) -> `sent` (committed
right after the server's 250), or to `deferred` (temporary failure, retried by a later run),
`failed` (permanent refusal) or `skipped` (the subscription was no longer active when the row
was taken). Rows hold no address or name: only `subscriber_id`, set to NULL on erasure.
The pacing tables (next slot, messages per minute for the rolling hour and day) live here
too because they exist only to make sending behave across restarts; run locks are runlock's.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator

import sqlite_utils

from ..store.db import transaction, utc_now
from .migrations import STATES
from .pacing import DAY_MINUTES
from .retention import folded_counts

PENDING_STATES = ("queued", "sending", "deferred")
QUEUE_BATCH = 1000  # rows per queueing transaction: each holds the write lock ~5-20 ms
QUEUE_PAUSE = 0.02  # seconds between them at least, and never less than the batch took


# --- queueing and reading ---------------------------------------------------------------------


def queue_recipients(
    db: sqlite_utils.Database, issue: str, recipients: Iterable[tuple[int, int, int | None]]
) -> int:
    """Add a `queued` row for each (subscriber_id, list_id, consent_event_id) not yet in the
    ledger for `issue`; existing rows (whatever their state) are left alone. Returns rows added."""
    now = utc_now()
    with transaction(db):
        before = db.conn.total_changes
        db.conn.executemany(
            "INSERT OR IGNORE INTO deliveries (issue, subscriber_id, list_id, state, "
            "consent_event_id, queued_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?)",
            ((issue, sid, lid, event, now, now) for sid, lid, event in recipients),
        )
        return db.conn.total_changes - before


def queue_list(
    db: sqlite_utils.Database,
    issue: str,
    list_id: int,
    *,
    batch: int = QUEUE_BATCH,
    pause: float = QUEUE_PAUSE,
) -> int:
    """Add a `queued` row for every active subscription of list `list_id` without a row for
    `issue`, in short transactions of `batch` people (walked in subscriber order), pausing
    between them as long as the batch held the lock (at least `pause`), so the web app's
    writes (a one-click unsubscribe) get the lock in between even on a busy machine: the
    queueing holds the write lock at most half the time. Memory does not grow with the list.
    Returns rows added."""
    added, after = 0, 0
    now = utc_now()
    while True:
        began = time.monotonic()
        with transaction(db):
            rows = db.execute(
                "SELECT subscriber_id, consent_event_id FROM subscriptions "
                "WHERE list_id = ? AND status = 'active' AND subscriber_id > ? "
                "ORDER BY subscriber_id LIMIT ?",
                [list_id, after, batch],
            ).fetchall()
            if not rows:
                return added
            before = db.conn.total_changes
            db.conn.executemany(
                "INSERT OR IGNORE INTO deliveries (issue, subscriber_id, list_id, state, "
                "consent_event_id, queued_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                ((issue, sid, list_id, event, now, now) for sid, event in rows),
            )
            added += db.conn.total_changes - before
        after = rows[-1][0]
        if len(rows) < batch:
            return added
        if pause:
            time.sleep(max(pause, time.monotonic() - began))


def new_recipients(db: sqlite_utils.Database, issue: str, list_id: int) -> int:
    """Active subscriptions of the list with no row for `issue` yet (counted in SQL)."""
    return db.execute(
        "SELECT count(*) FROM subscriptions sub WHERE sub.list_id = ? AND sub.status = 'active' "
        "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.issue = ? "
        "AND d.subscriber_id = sub.subscriber_id)",
        [list_id, issue],
    ).fetchone()[0]


def counts(db: sqlite_utils.Database, issue: str, list_id: int | None = None) -> dict[str, int]:
    """Rows per state for `issue` (on one list when `list_id` is given), every state present."""
    result = dict.fromkeys(STATES, 0)
    for state, number in db.execute(
        "SELECT state, count(*) FROM deliveries WHERE issue = ? AND (? IS NULL OR list_id = ?) "
        "GROUP BY state",
        [issue, list_id, list_id],
    ):
        result[state] = number
    # rows folded after NEWSLETTER_LEDGER_RETENTION_DAYS count too
    for state, number in folded_counts(db, issue, list_id).items():
        if state in result:
            result[state] += number
    return result


def pending_elsewhere(db: sqlite_utils.Database, issue: str, list_id: int) -> dict[str, int]:
    """Rows of `issue` still to send that were queued for other lists: list name -> rows."""
    rows = db.execute(
        "SELECT l.name, count(*) FROM deliveries d JOIN lists l ON l.id = d.list_id "
        "WHERE d.issue = ? AND d.list_id != ? AND d.state IN ('queued', 'sending', 'deferred') "
        "GROUP BY l.name ORDER BY l.name",
        [issue, list_id],
    )
    return dict(rows.fetchall())


def pending_rows(
    db: sqlite_utils.Database, issue: str, *, list_id: int, after_id: int, limit: int
) -> list[sqlite3.Row]:
    """The next rows of one list still to send (queued, deferred, or left `sending` by a
    crash), by id. Rows queued for another list wait for a send to that list: taken here,
    their people would be skipped as "not subscribed" and never get the issue."""
    # one indexed range per state, merged here: with `state IN (...)` SQLite sorts every
    # pending row above the cursor on each call, which is quadratic for a million-row send
    rows: list = []
    for state in PENDING_STATES:
        rows += db.conn.execute(
            "SELECT id, subscriber_id, list_id, state, attempts, message_id FROM deliveries "
            "WHERE issue = ? AND state = ? AND id > ? AND list_id = ? ORDER BY id LIMIT ?",
            [issue, state, after_id, list_id, limit],
        ).fetchall()
    rows.sort(key=lambda row: row[0])
    return rows[:limit]


# Rows of `issue` queued (or skipped) for another list whose person is active on list `list_id`:
# there is one row per person and issue, so without moving it to this list's run, someone who
# left the other list but stays on this one would never get the issue.
ADOPTABLE = (
    "issue = ? AND list_id IS NOT ? AND state IN ('queued', 'deferred', 'skipped') "
    "AND subscriber_id IN (SELECT subscriber_id FROM subscriptions "
    "WHERE list_id = ? AND status = 'active')"
)


def adoptable(db: sqlite_utils.Database, issue: str, list_id: int) -> int:
    """How many rows `adopt` would move to list `list_id`'s run."""
    sql = f"SELECT count(*) FROM deliveries WHERE {ADOPTABLE}"  # noqa: S608 - a fixed clause
    return db.execute(sql, [issue, list_id, list_id]).fetchone()[0]


def adopt(db: sqlite_utils.Database, issue: str, list_id: int) -> int:
    """Move those rows to this list's queue (`sending` rows are left to their own run).
    Counted first outside a transaction: on a resumed million-row send the usual answer is
    none, and the write lock is not taken for the scan."""
    if not adoptable(db, issue, list_id):
        return 0
    with transaction(db):
        cursor = db.conn.execute(
            f"UPDATE deliveries SET list_id = ?, state = 'queued', updated_at = ? "  # noqa: S608 - a fixed clause
            f"WHERE {ADOPTABLE}",
            [list_id, utc_now(), issue, list_id, list_id],
        )
        return cursor.rowcount


def requeue_failed(db: sqlite_utils.Database, issue: str, list_id: int) -> int:
    """Give `failed` rows of one list another chance (after fixing what made the server refuse
    them): back to `queued` with their attempts reset and their Message-ID kept. The send
    re-checks each subscription, so people who bounced or left are still not mailed."""
    with transaction(db):
        cursor = db.conn.execute(
            "UPDATE deliveries SET state = 'queued', attempts = 0, updated_at = ? "
            "WHERE issue = ? AND list_id = ? AND state = 'failed'",
            [utc_now(), issue, list_id],
        )
        return cursor.rowcount


def problems(db: sqlite_utils.Database, issue: str) -> Iterator[dict]:
    """Rows that did not end in `sent`, with their last SMTP reply, for `send-status`."""
    cursor = db.conn.execute(
        "SELECT d.id, d.subscriber_id, s.email, d.state, d.attempts, d.last_reply, d.updated_at "
        "FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id "
        "WHERE d.issue = ? AND d.state IN ('failed', 'deferred', 'sending', 'skipped') "
        "ORDER BY d.state, d.id",
        [issue],
    )
    columns = [c[0] for c in cursor.description]
    for row in cursor:
        yield dict(zip(columns, row, strict=True))


# --- state transitions (call inside `transaction(db)`) ----------------------------------------


def mark_sending(
    db: sqlite_utils.Database,
    row_id: int,
    *,
    message_id: str,
    consent_event_id: int,
    now: str,
    fence: int | None = None,
) -> None:
    """`fence`: the claiming run's fencing number (see runlock)."""
    db.conn.execute(
        "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, message_id = ?, "
        "consent_event_id = ?, updated_at = ?, claimed_by = ? WHERE id = ?",
        [message_id, consent_event_id, now, fence, row_id],
    )


def mark_sending_many(
    db: sqlite_utils.Database, marks: Iterable[tuple[str, int, str, int | None, int]]
) -> None:
    """`mark_sending` for a batch of (message_id, consent_event_id, now, fence, row_id)."""
    db.conn.executemany(
        "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, message_id = ?, "
        "consent_event_id = ?, updated_at = ?, claimed_by = ? WHERE id = ?",
        marks,
    )


# An erasure may land while a message is in flight; its reply (which often quotes the address)
# must not be written back onto the anonymised row.
_REPLY = "CASE WHEN subscriber_id IS NULL THEN NULL ELSE ? END"


def mark_sent(db: sqlite_utils.Database, row_id: int, *, reply: str, now: str) -> None:
    db.conn.execute(
        f"UPDATE deliveries SET state = 'sent', last_reply = {_REPLY}, sent_at = ?, "  # noqa: S608 - a fixed expression
        "updated_at = ? WHERE id = ?",
        [reply, now, now, row_id],
    )


def mark(db: sqlite_utils.Database, row_id: int, state: str, *, reply: str, now: str) -> None:
    """Move a row to `deferred`, `failed` or `skipped` with the reason."""
    if state not in ("deferred", "failed", "skipped"):
        raise ValueError(state)
    db.conn.execute(
        f"UPDATE deliveries SET state = ?, last_reply = {_REPLY}, updated_at = ? WHERE id = ?",  # noqa: S608 - a fixed expression
        [state, reply, now, row_id],
    )


# --- send state: pacing and the counts of the rolling hour and day ----------------------------


def load_pacing(db: sqlite_utils.Database, now: float) -> tuple[float, dict[int, int]]:
    """The next free per-second slot and the message counts per minute of the last 24 hours."""
    row = db.execute("SELECT next_slot FROM send_pacing WHERE name = 'smtp'").fetchone()
    minute = int(now // 60)
    buckets = dict(
        db.execute(
            "SELECT minute, messages FROM send_counts WHERE minute > ?", [minute - DAY_MINUTES]
        ).fetchall()
    )
    return (row[0] if row else 0.0), buckets


def save_pacing(
    db: sqlite_utils.Database, next_slot: float, added: Iterable[tuple[int, int]]
) -> None:
    """Record the next slot and messages added per minute (inside the claim transaction)."""
    db.conn.execute(
        "INSERT INTO send_pacing (name, next_slot) VALUES ('smtp', ?) "
        "ON CONFLICT (name) DO UPDATE SET next_slot = excluded.next_slot",
        [next_slot],
    )
    for minute, messages in added:
        db.conn.execute(
            "INSERT INTO send_counts (minute, messages) VALUES (?, ?) "
            "ON CONFLICT (minute) DO UPDATE SET messages = messages + excluded.messages",
            [minute, messages],
        )
        db.conn.execute("DELETE FROM send_counts WHERE minute < ?", [minute - DAY_MINUTES - 60])
