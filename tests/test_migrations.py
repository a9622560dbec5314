"""Schema migrations: from a blank file, from every earlier version (data kept), never backwards."""

from __future__ import annotations

import sqlite3

import pytest

from mailer.db import apply_migrations, connect, open_db, utc_now
from mailer.errors import DatabaseError
from mailer.migrations import MIGRATIONS

NAMES = [m.name for m in MIGRATIONS._migrations]


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
    assert len(NAMES) >= 3


def test_opening_twice_applies_nothing_again(tmp_path):
    path = tmp_path / "subscribers.db"
    open_db(path).close()
    db = open_db(path)
    assert applied(db) == NAMES
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] >= len(NAMES)


def _old_database(path, stop_before):
    """A database as an earlier release left it: migrations up to (not incl.) `stop_before`,
    holding one active subscriber who was added on the command line."""
    db = connect(path)
    apply_migrations(db, stop_before=stop_before)
    now = utc_now()
    with db.conn:
        db.execute("INSERT INTO lists (name, created) VALUES ('newsletter', ?)", [now])
        db.execute(
            "INSERT INTO subscribers (email, name, language, created) "
            "VALUES ('kept@example.se', 'Kept Person', 'da', ?)",
            [now],
        )
        db.execute(
            "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, lawful_basis) "
            "VALUES (?, 'add', 1, 1, 'cli', 'consent')",
            [now],
        )
        db.execute(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated) "
            "VALUES (1, 1, 'active', ?, ?)",
            [now, now],
        )
    db.close()


@pytest.mark.parametrize("stop_before", NAMES[1:])
def test_upgrade_from_each_earlier_version_keeps_data(tmp_path, stop_before):
    path = tmp_path / "subscribers.db"
    _old_database(path, stop_before)
    db = open_db(path)
    assert applied(db) == NAMES
    from mailer.subscribers import active_consent_event, active_recipients

    recipients = list(active_recipients(db, "newsletter"))
    assert [(r.email, r.name, r.language) for r in recipients] == [
        ("kept@example.se", "Kept Person", "da")
    ]
    # m003 points the old subscription at the event that made it active
    assert recipients[0].consent_event_id == 1
    assert active_consent_event(db, 1, "newsletter") == 1
    # and m002's protection covers rows written before it existed
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM consent_log WHERE id = 1")


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
