"""The bounce migrations on a database an earlier release left with data in it: m040 marks old
reports as acted on (they were) with no reader, m041 widens the outbox's kinds and keeps every
row, index and check."""

from __future__ import annotations

import sqlite3

import pytest

from mailer.store.db import apply_migrations, connect, open_db, utc_now


def test_m040_and_m041_keep_old_reports_and_outbox_rows(tmp_path):
    path = tmp_path / "subscribers.db"
    db = connect(path)
    apply_migrations(db, stop_before="m040_bounce_trust_and_reader")
    now = utc_now()
    with db.conn:
        db.execute(
            "INSERT INTO bounce_events (delivery_id, subscriber_id, list_id, issue, kind, status, "
            "diagnostic, reported_at, recorded_at, matched_by, decision, source, report_hash) "
            "VALUES (1, 1, 1, '2018-2', 'hard', '5.1.1', 'x', ?, ?, 'token', 'bounced', 'file', "
            "'h')",
            [now, now],
        )
        db.execute(
            "INSERT INTO service_mail (kind, recipient, message, once_key, created, due_at, "
            "updated) VALUES ('welcome', 'a@example.se', x'00', 'welcome:1:1', ?, ?, ?)",
            [now, now, now],
        )
    db.close()

    db = open_db(path)
    assert db.execute("SELECT unverified, reader FROM bounce_events").fetchall() == [(0, None)]
    assert db.execute(
        "SELECT kind, recipient, message, once_key, envelope_from FROM service_mail"
    ).fetchall() == [("welcome", "a@example.se", b"\x00", "welcome:1:1", None)]
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"service_mail_due", "service_mail_subscriber"} <= indexes
    row = "INSERT INTO service_mail (kind, created, due_at, updated) VALUES (?, ?, ?, ?)"
    db.execute(row, ["bounce_notice", now, now, now])
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute(row, ["junk", now, now, now])
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(
            "INSERT INTO service_mail (kind, once_key, created, due_at, updated) "
            "VALUES ('welcome', 'welcome:1:1', ?, ?, ?)",
            [now, now, now],
        )
    db.close()
