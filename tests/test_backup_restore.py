"""Backup while a send runs; restore re-applies the erasures and withdrawals made since."""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import threading
import time

import pytest

from mailer.audience import consent, journal, subscribers
from mailer.audience.backup import backup, restore
from mailer.audience.subscribers import get_subscriber
from mailer.delivery.send import run_send
from mailer.errors import DatabaseError
from tests.fixtures_send import add_subscribers

LIST = "nyhetsbrev"


def paused_progress(reached: threading.Event, resume: threading.Event, at: int):
    """A progress callback that stops the send after `at` messages until `resume` is set."""

    class Bar:
        done = 0

        def update(self, steps, item=None):
            self.done += steps
            if self.done == at:
                reached.set()
                assert resume.wait(60), "the test never resumed the send"

    @contextlib.contextmanager
    def progress(total):
        yield Bar()

    return progress


@pytest.fixture
def backed_up(db, send_settings, mail_sink, built_example, tmp_path):
    """40 people; a backup taken while the send has mailed 15 of them."""
    addresses = add_subscribers(db, send_settings, 40, LIST)
    reached, resume = threading.Event(), threading.Event()
    result = {}
    sender = threading.Thread(
        target=lambda: result.update(
            summary=run_send(
                send_settings, built_example, progress=paused_progress(reached, resume, 15)
            )
        )
    )
    sender.start()
    try:
        assert reached.wait(60), "the send did not start"
        path, info = backup(send_settings, tmp_path / "offsite" / "copy.db")
    finally:
        resume.set()
        sender.join(60)
    assert result["summary"].sent == 40
    return addresses, path, info


def test_backup_during_a_send_is_a_consistent_private_copy(db, send_settings, backed_up):
    _addresses, path, info = backed_up
    assert info["journal_last_seq"] == "0"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    copy = sqlite3.connect(path)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    states = dict(copy.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
    assert sum(states.values()) == 40 and 15 <= states.get("sent", 0) < 40
    assert copy.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 40
    assert not path.with_name(path.name + "-wal").exists()


def test_restore_keeps_people_erased_and_unsubscribed_after_the_backup(
    db, send_settings, backed_up, run_cli
):
    addresses, path, _info = backed_up
    erased = addresses[:2]
    leaver = addresses[2]
    for email in erased:
        consent.erase_subscriber(db, send_settings, email)
    subscribers.unsubscribe(db, get_subscriber(db, leaver)["id"], LIST, channel="web")
    # somebody new who was erased after the backup was never in it: stays suppressed
    late = "late.comer@example.org"
    subscribers_before = db.execute("SELECT count(*) FROM subscribers").fetchone()[0]
    from mailer.audience.roster import add_subscriber

    add_subscriber(db, send_settings, late)
    consent.erase_subscriber(db, send_settings, late)
    db.close()

    result = run_cli("restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert "4 journal entries" in result.output and "2 people erased again" in result.output

    from mailer.store.db import open_db

    restored = open_db(send_settings.db_path)
    try:
        for email in erased:
            assert get_subscriber(restored, email) is None
            assert consent.is_suppressed(restored, send_settings, email)
        assert consent.is_suppressed(restored, send_settings, late)
        assert get_subscriber(restored, leaver)["subscriptions"] == {LIST: "unsubscribed"}
        count = restored.execute("SELECT count(*) FROM subscribers").fetchone()[0]
        assert count == subscribers_before == 38
        # the ledger is the backup's: 40 rows, two of them anonymised by the erasure
        assert restored.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 40
        data = send_settings.db_path.read_bytes()
        assert not any(email.encode() in data for email in erased)
        # a second restore of the same backup gives the same result (entries are idempotent)
    finally:
        restored.close()
    again = run_cli("restore", str(path), "--yes")
    assert again.exit_code == 0 and "2 people erased again" in again.output


def test_restore_without_the_journal_refuses_unless_told(db, send_settings, backed_up, run_cli):
    addresses, path, _info = backed_up
    consent.erase_subscriber(db, send_settings, addresses[0])
    db.close()
    journal.path_for(send_settings.db_path).unlink()
    refused = run_cli("restore", str(path), "--yes")
    assert refused.exit_code != 0
    assert "erasure journal is missing" in refused.output and "--without-journal" in refused.output
    assert "Traceback" not in refused.output
    with pytest.raises(DatabaseError, match="journal is missing"):
        restore(send_settings, path)
    forced = run_cli("restore", str(path), "--yes", "--without-journal")
    assert forced.exit_code == 0 and "NOT re-applied" in forced.output
    assert journal.path_for(send_settings.db_path).exists()  # carried on from the backup


def test_backup_refuses_to_overwrite_and_restore_refuses_a_plain_copy(
    db, settings, tmp_path, run_cli
):
    target = tmp_path / "b.db"
    assert run_cli("backup", str(target)).exit_code == 0
    again = run_cli("backup", str(target))
    assert again.exit_code != 0 and "already exists" in again.output
    plain = tmp_path / "plain.db"
    plain.write_bytes(b"")
    refused = run_cli("restore", str(plain), "--yes")
    assert refused.exit_code != 0 and "not a backup made by `newsletter backup`" in refused.output
    default = run_cli("backup")
    assert default.exit_code == 0 and "backups/subscribers-" in default.output
    # nobody was ever erased or unsubscribed: no journal, and nothing it could hold is lost
    assert not journal.path_for(settings.db_path).exists()
    restored = run_cli("restore", str(target), "--yes")
    assert restored.exit_code == 0 and "re-applied 0 journal entries" in restored.output


def test_restore_refuses_while_a_send_is_running(db, settings, tmp_path, run_cli):
    path, _info = backup(settings, tmp_path / "b.db")
    db.execute(
        "INSERT INTO send_locks (issue, list_id, fence, pid, host, heartbeat) "
        "VALUES ('2026-1', 1, 1, 4242, 'here', ?)",
        [time.time()],
    )
    db.conn.commit()
    refused = run_cli("restore", str(path), "--yes")
    assert refused.exit_code != 0 and "a send of 2026-1 is running" in refused.output


def test_restore_refuses_a_backup_from_a_newer_version_and_backup_needs_a_database(
    db, settings, tmp_path, run_cli
):
    path, _info = backup(settings, tmp_path / "b.db")
    copy = sqlite3.connect(path)
    copy.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('newsletter-subscribers', 'm999_future', '2030-01-01')"
    )
    copy.commit()
    copy.close()
    refused = run_cli("restore", str(path), "--yes")
    assert refused.exit_code != 0 and "newer version" in refused.output
    missing = run_cli("backup", str(tmp_path / "c.db"), db_path=tmp_path / "none.db")
    assert missing.exit_code != 0 and "no database to back up" in missing.output
    assert not (tmp_path / "none.db").exists()


@pytest.mark.slow  # two scrubs wait out their retries (about 8 s)
def test_restore_finishes_while_a_reader_holds_the_wal_and_says_what_waits(
    db, send_settings, backed_up
):
    addresses, path, _info = backed_up
    consent.erase_subscriber(db, send_settings, addresses[0])
    reader = sqlite3.connect(send_settings.db_path)  # like Litestream: a long read transaction
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM subscribers").fetchone()
    try:
        report = restore(send_settings, path)
    finally:
        reader.rollback()
        reader.close()
    assert report.erased == 1
    assert any("another process is reading" in note for note in report.notes)
    assert get_subscriber(db, addresses[0]) is None
    assert consent.is_suppressed(db, send_settings, addresses[0])
