"""Schema migrations: from a blank file, from every earlier version (data kept), never backwards."""

from __future__ import annotations

import sqlite3

import pytest

from mailer.audience.migrations import MIGRATIONS
from mailer.errors import DatabaseError
from mailer.store.db import apply_migrations, connect, open_db, utc_now

NAMES = [m.name for m in MIGRATIONS._migrations]
# left by an erasure in a release before m004: anonymised, but source and channel kept
OLD_ERASED_SOURCE = "mejl från lena.berg@gmail.com 2026-11-20"
OLD_ERASED_CSV = "Lena Berg anmälan.csv"


def applied(db):
    return [m.name for m in MIGRATIONS.applied(db)]


def test_blank_database_gets_every_table_trigger_and_record(tmp_path):
    db = open_db(tmp_path / "subscribers.db")
    tables = set(db.table_names())
    for table in (
        "lists",
        "subscribers",
        "subscriptions",
        "consent_log",
        "consent_texts",
        "tokens",
        "suppressions",
    ):
        assert table in tables
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert {"consent_log_no_delete", "consent_log_only_anonymise"} <= triggers
    assert "consent_event_id" in db["subscriptions"].columns_dict
    assert applied(db) == NAMES
    assert len(NAMES) >= 4


def test_opening_twice_applies_nothing_again(tmp_path):
    path = tmp_path / "subscribers.db"
    open_db(path).close()
    db = open_db(path)
    assert applied(db) == NAMES
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] >= len(NAMES)


def _old_database(path, stop_before):
    """A database as an earlier release left it: migrations up to (not incl.) `stop_before`,
    holding one active subscriber added on the command line, one imported from a CSV file,
    and the log rows of a person erased by that release (source and file name still there)."""
    db = connect(path)
    apply_migrations(db, stop_before=stop_before)
    now = utc_now()
    with db.conn:
        db.execute("INSERT INTO lists (name, created) VALUES ('newsletter', ?)", [now])
        for email, name in (("kept@example.se", "Kept Person"), ("csv@example.se", "Imported")):
            db.execute(
                "INSERT INTO subscribers (email, name, language, created) VALUES (?, ?, 'da', ?)",
                [email, name, now],
            )
        log = (
            "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, source, "
            "lawful_basis, anonymised) VALUES (?, ?, ?, 1, ?, ?, 'consent', ?)"
        )
        db.execute(log, [now, "add", 1, "cli", None, 0])
        db.execute(log, [now, "import", 2, "csv:members.csv:3", "fair", 0])
        if NAMES.index(stop_before) <= NAMES.index("m004_erasure_scrubs_source_and_channel"):
            db.execute(log, [now, "add", None, "cli", OLD_ERASED_SOURCE, 1])
            db.execute(log, [now, "import", None, f"csv:{OLD_ERASED_CSV}:2", None, 1])
        else:  # a release with m004 erased them whole
            db.execute(log, [now, "add", None, "cli", None, 1])
            db.execute(log, [now, "import", None, "csv", None, 1])
        db.execute(log, [now, "unsubscribe", None, "one-click", None, 1])
        for subscriber_id in (1, 2):
            db.execute(
                "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated) "
                "VALUES (?, 1, 'active', ?, ?)",
                [subscriber_id, now, now],
            )
        if "consent_event_id" in db["subscriptions"].columns_dict:  # as a release from m003 on
            db.execute("UPDATE subscriptions SET consent_event_id = subscriber_id")
    db.close()


def _file_bytes(path):
    return b"".join(
        file.read_bytes() for file in (path, path.with_name(path.name + "-wal")) if file.exists()
    )


@pytest.mark.parametrize("stop_before", NAMES[1:])
def test_upgrade_from_each_earlier_version_keeps_data(tmp_path, stop_before):
    path = tmp_path / "subscribers.db"
    _old_database(path, stop_before)
    db = open_db(path)
    assert applied(db) == NAMES
    from mailer.audience.subscribers import active_consent_event, active_recipients

    recipients = list(active_recipients(db, "newsletter"))
    assert [(r.email, r.name, r.language) for r in recipients] == [
        ("kept@example.se", "Kept Person", "da"),
        ("csv@example.se", "Imported", "da"),
    ]
    # m003 points the old subscriptions at the events that made them active (or they did)
    assert [r.consent_event_id for r in recipients] == [1, 2]
    assert active_consent_event(db, 1, "newsletter") == 1
    # and m002's protection covers rows written before it existed
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM consent_log WHERE id = 1")
    # m004 scrubs rows erased earlier down to the channel's kind, and leaves the others alone
    assert db.execute(
        "SELECT action, subscriber_id, channel, source, anonymised FROM consent_log ORDER BY id"
    ).fetchall() == [
        ("add", 1, "cli", None, 0),
        ("import", 2, "csv:members.csv:3", "fair", 0),
        ("add", None, "cli", None, 1),
        ("import", None, "csv", None, 1),
        ("unsubscribe", None, "one-click", None, 1),
    ]
    # m005 keeps every existing list on the public sign-up page
    assert db.execute("SELECT name, public FROM lists").fetchall() == [("newsletter", 1)]
    # after which a scrubbed row is immutable again, and a kept person's row is still whole
    for sql in (
        "UPDATE consent_log SET channel = 'web' WHERE id = 4",
        "UPDATE consent_log SET source = 'restored' WHERE id = 3",
        "UPDATE consent_log SET source = NULL WHERE id = 2",
        "UPDATE consent_log SET channel = 'csv' WHERE id = 2",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)


BEFORE_M004 = NAMES[1 : NAMES.index("m004_erasure_scrubs_source_and_channel") + 1]


@pytest.mark.parametrize("stop_before", BEFORE_M004)
def test_upgrade_leaves_no_copy_of_what_it_scrubbed_in_the_files(tmp_path, stop_before):
    path = tmp_path / "subscribers.db"
    _old_database(path, stop_before)
    traces = [OLD_ERASED_SOURCE, OLD_ERASED_CSV]
    assert all(t.encode() in _file_bytes(path) for t in traces)  # the check below can fail
    db = open_db(path)
    data = _file_bytes(path)  # while the upgrading process still has the database open
    db.close()
    assert [t for t in traces if t.encode() in data] == []
    assert b"csv:members.csv:3" in data and b"kept@example.se" in data


def test_database_from_a_newer_release_is_refused_by_the_cli(tmp_path, run_cli):
    path = tmp_path / "subscribers.db"
    db = open_db(path)
    db["_sqlite_migrations"].insert(
        {"migration_set": MIGRATIONS.name, "name": "m999_from_the_future", "applied_at": utc_now()}
    )
    db.close()
    result = run_cli("subscribers", "add", "new@example.se", db_path=path)
    assert result.exit_code != 0
    assert "newer version" in result.output
    with pytest.raises(DatabaseError):
        open_db(path)
    assert connect(path).execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0


def test_missing_database_folder_is_a_clear_error_and_creates_nothing(tmp_path, run_cli):
    path = tmp_path / "nowhere" / "subscribers.db"
    result = run_cli("subscribers", "add", "a@example.se", db_path=path)
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert not path.parent.exists()
