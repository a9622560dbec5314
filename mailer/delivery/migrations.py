"""Schema migrations of the delivery wing: the send ledger and the send state (pacing, locks).

Recorded in `_sqlite_migrations` under the set name "newsletter-ledger". Like every wing's
migrations module, this one imports only sqlite-utils: the store applies it without importing
the sending code.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("newsletter-ledger")

STATES = ("queued", "sending", "sent", "deferred", "failed", "skipped")


@MIGRATIONS()
def m001_deliveries(db: sqlite_utils.Database) -> None:
    """One row per (issue, subscriber); no foreign key, so no schema change elsewhere can
    cascade into the ledger (erasure sets subscriber_id to NULL itself)."""
    states = ", ".join(f"'{state}'" for state in STATES)
    db.execute(
        f"""CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            issue TEXT NOT NULL,
            subscriber_id INTEGER,
            list_id INTEGER,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ({states})),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_reply TEXT,
            message_id TEXT,
            consent_event_id INTEGER,
            queued_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (issue, subscriber_id)
        )"""
    )
    db.execute("CREATE INDEX deliveries_issue_state ON deliveries (issue, state, id)")
    db.execute("CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id)")


@MIGRATIONS()
def m002_send_state(db: sqlite_utils.Database) -> None:
    """Rate-limit state that must survive a restart, and one lock row per running send."""
    db.execute("CREATE TABLE send_pacing (name TEXT PRIMARY KEY, next_slot REAL NOT NULL)")
    db.execute("CREATE TABLE send_counts (minute INTEGER PRIMARY KEY, messages INTEGER NOT NULL)")
    db.execute(
        """CREATE TABLE send_locks (
            issue TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL,
            started_at TEXT NOT NULL, heartbeat REAL NOT NULL
        )"""
    )


@MIGRATIONS()
def m015_send_segments(db: sqlite_utils.Database) -> None:
    """The segment a send of an issue to a list was started with (`send --segment`), so that a
    resume without the option mails the same people and no one else."""
    db.execute(
        """CREATE TABLE send_segments (
            issue TEXT NOT NULL,
            list_id INTEGER NOT NULL,
            expression TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (issue, list_id)
        )"""
    )


@MIGRATIONS()
def m016_send_schedule(db: sqlite_utils.Database) -> None:
    """Scheduled sends (`send ISSUE --at ...`): one row per issue, run by `scheduled run`."""
    db.execute(
        """CREATE TABLE send_schedule (
            issue TEXT PRIMARY KEY,
            issue_dir TEXT NOT NULL,
            list_name TEXT,
            segment TEXT,
            due_at TEXT NOT NULL,
            timezone TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'scheduled'
                CHECK (state IN ('scheduled', 'done', 'cancelled', 'failed')),
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            last_result TEXT
        )"""
    )
