"""Schema migrations of the delivery wing: the send ledger, the send state (pacing, locks) and
the service-mail outbox.

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


SERVICE_MAIL_KINDS = ("signup", "confirmation", "export_link", "erasure_link", "welcome")
SERVICE_MAIL_STATES = ("waiting", "sent", "failed")


@MIGRATIONS()
def m003_service_outbox(db: sqlite_utils.Database) -> None:
    """The durable outbox of service mail (confirmation, data-download and erasure links, the
    welcome issue), and which issue welcomes a list's new people.

    A `signup` row is a sign-up request written before the page answers; the outbox worker turns
    it into the subscription and its `confirmation` row. A mail row holds the message as it will
    be sent (unsigned; DKIM signs at sending). Sent rows lose recipient and message; a row with
    `once_key` stays so that mail goes out at most once; a mail whose link has `expires` is not
    sent after that time (it fails, saying so). No foreign key (as `deliveries`):
    erasure deletes a person's rows itself.
    """
    kinds = ", ".join(f"'{kind}'" for kind in SERVICE_MAIL_KINDS)
    states = ", ".join(f"'{state}'" for state in SERVICE_MAIL_STATES)
    db.execute(
        f"""CREATE TABLE service_mail (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ({kinds})),
            state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ({states})),
            subscriber_id INTEGER,
            list_id INTEGER,
            recipient TEXT,
            message BLOB,
            request TEXT,
            once_key TEXT UNIQUE,
            expires TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_reply TEXT,
            claimed_by TEXT,
            created TEXT NOT NULL,
            due_at TEXT NOT NULL,
            updated TEXT NOT NULL,
            sent_at TEXT
        )"""
    )
    db.execute("CREATE INDEX service_mail_due ON service_mail (state, due_at, id)")
    db.execute("CREATE INDEX service_mail_subscriber ON service_mail (subscriber_id)")
    db.execute(
        "CREATE TABLE list_welcome (list_id INTEGER PRIMARY KEY, issue_dir TEXT NOT NULL, "
        "updated TEXT NOT NULL)"
    )


@MIGRATIONS()
def m004_send_locks_per_list_with_fence(db: sqlite_utils.Database) -> None:
    """One lock row per issue and list, kept after release so its fencing number only grows:
    a run checks the number before every claim and stops when another run has taken over.
    `proc_start` tells a live owner from a new process that got the same pid."""
    db.execute("DROP TABLE send_locks")
    db.execute(
        """CREATE TABLE send_locks (
            issue TEXT NOT NULL, list_id INTEGER NOT NULL, fence INTEGER NOT NULL,
            pid INTEGER, host TEXT, proc_start TEXT, started_at TEXT, heartbeat REAL,
            PRIMARY KEY (issue, list_id)
        )"""
    )


@MIGRATIONS()
def m005_deliveries_claimed_by(db: sqlite_utils.Database) -> None:
    """The fencing number of the run that marked a row `sending`: another run takes such a
    row only once that run's lock is provably gone (its number is older than its own)."""
    db.execute("ALTER TABLE deliveries ADD COLUMN claimed_by INTEGER")


BOUNCE_KINDS = ("hard", "soft", "complaint")


@MIGRATIONS()
def m010_bounce_events(db: sqlite_utils.Database) -> None:
    """One row per bounce or complaint report matched to a ledger row, with the decision taken.

    `report_hash` (SHA-256 of the report as read) makes a second reading of the same report a
    no-op, whether it comes from IMAP or a file. `subscriber_id` is copied from the ledger row
    so that erasure can delete the person's reports (the diagnostic often quotes the address)."""
    kinds = ", ".join(f"'{kind}'" for kind in BOUNCE_KINDS)
    db.execute(
        f"""CREATE TABLE bounce_events (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL,
            subscriber_id INTEGER,
            list_id INTEGER,
            issue TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ({kinds})),
            status TEXT NOT NULL,
            diagnostic TEXT,
            reported_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            matched_by TEXT NOT NULL CHECK (matched_by IN ('token', 'message-id', 'address')),
            decision TEXT NOT NULL,
            source TEXT NOT NULL,
            report_hash TEXT NOT NULL,
            UNIQUE (report_hash, delivery_id)
        )"""
    )
    db.execute("CREATE INDEX bounce_events_issue ON bounce_events (issue, kind)")
    db.execute(
        "CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber_id, list_id, kind)"
    )


@MIGRATIONS()
def m011_bounce_mailboxes(db: sqlite_utils.Database) -> None:
    """Where `bounces fetch` got to in each IMAP folder: the folder's UIDVALIDITY and the
    highest UID read. A new UIDVALIDITY means the server renumbered the folder: read it all
    again (reports already recorded are recognised by their hash)."""
    db.execute(
        """CREATE TABLE bounce_mailboxes (
            mailbox TEXT PRIMARY KEY,
            uidvalidity INTEGER NOT NULL,
            last_uid INTEGER NOT NULL,
            updated_at TEXT NOT NULL
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


SCHEDULE_STATES = ("waiting", "sending", "done", "failed", "cancelled")


@MIGRATIONS()
def m019_scheduled_sends(db: sqlite_utils.Database) -> None:
    """Sends planned for a later time (`send --at`), run by `scheduled run`. `due_at` is UTC in
    the database's one time format; the local time and zone are kept as the editor gave them.
    At most one waiting or running schedule per issue and list; `runner_pid`/`runner_host` name
    the `scheduled run` process working on one, so an overlapping run leaves it alone."""
    states = ", ".join(f"'{state}'" for state in SCHEDULE_STATES)
    db.execute(
        f"""CREATE TABLE scheduled_sends (
            id INTEGER PRIMARY KEY,
            issue TEXT NOT NULL,
            issue_dir TEXT NOT NULL,
            list_name TEXT NOT NULL,
            due_at TEXT NOT NULL,
            local_time TEXT NOT NULL,
            timezone TEXT NOT NULL,
            connections INTEGER,
            rate REAL,
            force INTEGER NOT NULL DEFAULT 0 CHECK (force IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ({states})),
            runs INTEGER NOT NULL DEFAULT 0,
            runner_pid INTEGER,
            runner_host TEXT,
            last_result TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        "CREATE UNIQUE INDEX scheduled_sends_active ON scheduled_sends (issue, list_name) "
        "WHERE state IN ('waiting', 'sending')"
    )
    db.execute("CREATE INDEX scheduled_sends_due ON scheduled_sends (state, due_at)")


@MIGRATIONS()
def m020_scheduled_segment(db: sqlite_utils.Database) -> None:
    """The segment a scheduled send was made with (`send --at ... --segment ...`), in its
    canonical form; NULL is the whole list."""
    db.execute("ALTER TABLE scheduled_sends ADD COLUMN segment TEXT")


@MIGRATIONS()
def m040_bounce_trust_and_reader(db: sqlite_utils.Database) -> None:
    """Whether a report proved it answers a message we sent to that person: `unverified` = 1
    when VERP was on and only the address matched (recorded and shown, never acted on by
    itself), and which reader found the failure (`reader`: rfc3464, rfc5965, flufl.bounce,
    free-text; NULL for reports recorded before)."""
    db.execute(
        "ALTER TABLE bounce_events ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0 "
        "CHECK (unverified IN (0, 1))"
    )
    db.execute("ALTER TABLE bounce_events ADD COLUMN reader TEXT")


@MIGRATIONS()
def m041_bounce_notices(db: sqlite_utils.Database) -> None:
    """The `bounce_notice` service mail (unverified reports reached BOUNCE_UNVERIFIED_LIMIT:
    the person is told, nothing changes) and a per-row envelope sender (`envelope_from`, the
    VERP return path of the person's last issue, so that a notice that bounces comes back as a
    verified report). The table is rebuilt from its own schema text to widen the kind check,
    keeping any column, index or trigger added since."""
    sql = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'service_mail'"
    ).fetchone()[0]
    if "'bounce_notice'" not in sql:
        head, check, rest = sql.partition("CHECK (kind IN (")
        sql = f"{head}{check}'bounce_notice', {rest}"
    indexes = [
        row[0]
        for row in db.execute(
            "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "AND tbl_name = 'service_mail' AND sql IS NOT NULL"
        )
    ]
    columns = ", ".join(c.name for c in db["service_mail"].columns)
    db.execute(sql.replace("CREATE TABLE service_mail", "CREATE TABLE service_mail_m041", 1))
    db.execute(f"INSERT INTO service_mail_m041 ({columns}) SELECT {columns} FROM service_mail")  # noqa: S608 - the table's own column names
    db.execute("DROP TABLE service_mail")
    db.execute("ALTER TABLE service_mail_m041 RENAME TO service_mail")
    for index in indexes:
        db.execute(index)
    db.execute("ALTER TABLE service_mail ADD COLUMN envelope_from TEXT")


@MIGRATIONS()
def m055_delivery_counts(db: sqlite_utils.Database) -> None:
    """Per-issue counts that per-recipient ledger rows are folded into after
    NEWSLETTER_LEDGER_RETENTION_DAYS (delivery.retention): one row per issue, list (0 = none)
    and outcome (a ledger state, or `bounced`, `soft_bounced`, `complained` from bounce
    reports), with when the first and last copy went out. Nothing in it names a person."""
    db.execute(
        """CREATE TABLE delivery_counts (
            issue TEXT NOT NULL,
            list_id INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_sent_at TEXT,
            last_sent_at TEXT,
            folded_at TEXT NOT NULL,
            PRIMARY KEY (issue, list_id, outcome)
        )"""
    )


@MIGRATIONS()
def m070_link_clicks(db: sqlite_utils.Database) -> None:
    """Aggregate click counts (NEWSLETTER_CLICK_COUNTING=on): one row per issue and link number,
    a counter and nothing else. No subscriber, no IP, no time: a click cannot be tied to a
    person, by design (the funder's report needs totals only)."""
    db.execute(
        """CREATE TABLE link_clicks (
            issue TEXT NOT NULL,
            link INTEGER NOT NULL,
            clicks INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (issue, link)
        )"""
    )


REMOTE_STATES = ("queued", "sending", "done", "stopped", "cancelled")


@MIGRATIONS()
def m035_remote_sends(db: sqlite_utils.Database) -> None:
    """Sends queued through the API (a laptop's `newsletter send` against the server), run by
    the worker thread of `newsletter serve`. At most one queued or running per issue and list;
    `token_name` and `queued_at` say who holds it; `runner_pid`/`runner_start` name the process
    running it, so a restarted `serve` takes over a send whose process is gone."""
    states = ", ".join(f"'{state}'" for state in REMOTE_STATES)
    db.execute(
        f"""CREATE TABLE remote_sends (
            id INTEGER PRIMARY KEY,
            issue TEXT NOT NULL,
            list_name TEXT NOT NULL,
            bundle_sha256 TEXT NOT NULL,
            token_name TEXT NOT NULL,
            options TEXT NOT NULL DEFAULT '{{}}',
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ({states})),
            planned INTEGER NOT NULL DEFAULT 0,
            done_before INTEGER NOT NULL DEFAULT 0,
            runner_pid INTEGER,
            runner_start TEXT,
            last_result TEXT NOT NULL DEFAULT '',
            queued_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        "CREATE UNIQUE INDEX remote_sends_active ON remote_sends (issue, list_name) "
        "WHERE state IN ('queued', 'sending')"
    )
