"""Opening the database: pragmas, transactions, refusing what this version cannot handle."""

from __future__ import annotations

import sqlite3

import pytest

from mailer.errors import DatabaseError
from mailer.store.db import connect, open_db, transaction, utc_now


def test_open_db_sets_wal_full_sync_and_busy_timeout(tmp_path):
    db = open_db(tmp_path / "subscribers.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_missing_folder_is_a_clear_error_and_creates_nothing(tmp_path):
    path = tmp_path / "no-such-folder" / "subscribers.db"
    with pytest.raises(DatabaseError, match="does not exist"):
        open_db(path)
    assert not path.parent.exists()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "subscribers.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="cannot open"):
        open_db(path)


def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "subscribers.db"
    db = open_db(path)
    db["_sqlite_migrations"].insert(
        {"migration_set": "newsletter-subscribers", "name": "m999_future", "applied_at": utc_now()}
    )
    db.close()
    with pytest.raises(DatabaseError, match="newer version"):
        open_db(path)


def test_transaction_rolls_back_everything_on_error(tmp_path):
    db = open_db(tmp_path / "subscribers.db")
    db["scratch"].create({"id": int, "value": str}, pk="id")
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO scratch (value) VALUES ('a')")
        with transaction(db):  # nested: a savepoint
            db["scratch"].insert({"value": "b"})
        raise RuntimeError("boom")
    assert db["scratch"].count == 0
    assert not db.conn.in_transaction


def test_transaction_holds_the_write_lock_from_the_start(tmp_path):
    """BEGIN IMMEDIATE: a second writer cannot slip in between our read and our write."""
    path = tmp_path / "subscribers.db"
    db = open_db(path)
    db["scratch"].create({"id": int, "value": str}, pk="id")
    other = sqlite3.connect(str(path), timeout=0.05)
    with transaction(db):
        db.execute("SELECT count(*) FROM scratch").fetchone()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_connect_does_not_migrate(tmp_path):
    db = connect(tmp_path / "subscribers.db")
    assert not db["_sqlite_migrations"].exists()


def test_a_lock_held_past_the_busy_timeout_is_a_clear_error_and_writes_nothing(tmp_path):
    path = tmp_path / "subscribers.db"
    db = open_db(path)
    db["scratch"].create({"id": int, "value": str}, pk="id")
    db.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(str(path))
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(DatabaseError) as error, transaction(db):
            db["scratch"].insert({"value": "lost"})
    finally:
        other.execute("ROLLBACK")
        other.close()
    message = str(error.value)
    assert str(path) in message and "locked" in message and "try again" in message
    assert not db.conn.in_transaction
    assert db["scratch"].count == 0
    with transaction(db):  # the connection is still usable once the lock is free
        db["scratch"].insert({"value": "kept"})
    assert db["scratch"].count == 1
