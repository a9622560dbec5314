"""One live send per issue and list: a live owner is never overtaken, whatever its heartbeat;
a run whose lock was taken over stops before it mails anybody else; rows in flight are never
claimed by another run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from mailer.delivery import runlock
from mailer.delivery.send import run_send
from mailer.errors import SendError
from mailer.store.db import transaction, utc_now
from tests.fixtures_send import (
    PROJECT_ROOT,
    FaultyHandler,
    add_subscribers,
    smtp_environment,
    start_sink,
)

LIST = "nyhetsbrev"
HERE = runlock.Owner(111, "here", "boot:1")


def _list(db) -> int:
    with transaction(db):
        db.execute("INSERT INTO lists (name, created) VALUES (?, ?)", [LIST, utc_now()])
    return db.execute("SELECT id FROM lists").fetchone()[0]


def test_a_live_owner_on_this_host_is_never_overtaken_even_with_an_old_heartbeat(db):
    list_pk = _list(db)
    first = runlock.acquire(db, "2018-2", list_pk, LIST, owner=HERE, now=1000.0)
    other = runlock.Owner(222, "here", "boot:2")
    with pytest.raises(SendError, match=r"is running \(pid 111 on here"):
        runlock.acquire(
            db, "2018-2", list_pk, LIST, owner=other, now=1000.0 + 86400, alive=lambda p, s: True
        )
    assert runlock.holds(db, "2018-2", list_pk, first)


def test_a_gone_owner_is_overtaken_with_a_larger_fence_and_the_old_run_sees_it(db):
    list_pk = _list(db)
    first = runlock.acquire(db, "2018-2", list_pk, LIST, owner=HERE, now=1000.0)
    second = runlock.acquire(
        db, "2018-2", list_pk, LIST, owner=HERE, now=1001.0, alive=lambda p, s: False
    )
    assert second > first
    assert not runlock.holds(db, "2018-2", list_pk, first)
    runlock.release(db, "2018-2", list_pk, first)  # a late release of the old run frees nothing
    assert runlock.holds(db, "2018-2", list_pk, second)


def test_another_hosts_lock_is_overtaken_only_after_the_staleness_limit(db):
    list_pk = _list(db)
    elsewhere = runlock.Owner(111, "elsewhere", "")
    runlock.acquire(db, "2018-2", list_pk, LIST, owner=elsewhere, now=1000.0)
    with pytest.raises(SendError, match="pid 111 on elsewhere"):
        runlock.acquire(db, "2018-2", list_pk, LIST, owner=HERE, now=1000.0 + 899)
    runlock.acquire(db, "2018-2", list_pk, LIST, owner=HERE, now=1000.0 + 901)


def test_a_process_with_a_reused_pid_is_not_taken_for_the_owner():
    me = runlock.Owner.this_process()
    assert runlock.process_alive(me.pid, me.started)
    if me.started:  # Linux: a different start time is a different process
        assert not runlock.process_alive(me.pid, "another-boot:1")


def test_separate_lists_of_one_issue_have_separate_locks(db):
    list_pk = _list(db)
    with transaction(db):
        db.execute("INSERT INTO lists (name, created) VALUES ('styrelse', ?)", [utc_now()])
    runlock.acquire(db, "2018-2", list_pk, LIST, owner=HERE, now=1000.0)
    runlock.acquire(db, "2018-2", list_pk + 1, "styrelse", owner=HERE, now=1000.0)


def test_a_run_whose_lock_is_taken_over_stops_before_mailing_anyone_else(
    db, send_settings, mail_sink, built_example
):
    add_subscribers(db, send_settings, 30, LIST)
    errors: list[BaseException] = []

    def send():
        try:
            run_send(send_settings, built_example, rate=20)
        except BaseException as exc:
            errors.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    while mail_sink.handler.count() < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    with transaction(db):  # another host takes the lock over (as after a long network split)
        db.execute("UPDATE send_locks SET fence = fence + 100, pid = 1, host = 'elsewhere'")
    at_takeover = mail_sink.handler.count()
    sender.join(timeout=30)
    assert not sender.is_alive()
    assert at_takeover >= 5
    assert len(errors) == 1 and "another run has taken over the lock" in str(errors[0])
    # at most the message whose final "." was already on its way (one connection)
    assert mail_sink.handler.count() <= at_takeover + 1
    assert set(mail_sink.handler.copies().values()) == {1}
    left = db.execute("SELECT count(*) FROM deliveries WHERE state != 'sent'").fetchone()[0]
    assert left >= 30 - at_takeover - 1


def _send_process(settings, port, issue, log_path, *extra, env=None):
    environment = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")},
        **smtp_environment(settings, port),
        "NEWSLETTER_SEND_LOCK_STALE_SECONDS": "2",
        **(env or {}),
    }
    command = [
        sys.executable,
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); from cli import cli; cli(sys.argv[2:])",
        str(PROJECT_ROOT),
        "--db",
        str(settings.db_path),
        "send",
        str(issue),
        "--yes",
        *extra,
    ]
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_two_live_sends_the_second_refuses_naming_the_first_and_nobody_gets_two(
    db, settings, built_example, tmp_path
):
    """The issue's reproduction, shortened: a 2 s staleness limit, the first run stopped
    (SIGSTOP: no heartbeat at all) for longer than that, then the same command again."""
    addresses = add_subscribers(db, settings, 20, LIST)
    handler = FaultyHandler()
    controller, sink = start_sink(handler)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _send_process(settings, sink.port, built_example, first_log, "--rate", "5")
    try:
        assert _wait(lambda: handler.count() >= 3, 60), first_log.read_text()
        first.send_signal(signal.SIGSTOP)
        time.sleep(3)  # past the staleness limit: the heartbeat is 3 s old
        second = _send_process(settings, sink.port, built_example, second_log)
        assert second.wait(timeout=60) != 0
        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=60) == 0, first_log.read_text()
    finally:
        first.send_signal(signal.SIGCONT)
        controller.stop()
    refusal = second_log.read_text()
    assert f"another send of 2018-2 to list {LIST} is running (pid {first.pid}" in refusal
    assert handler.copies() == dict.fromkeys(addresses, 1)


@pytest.mark.slow
def test_a_run_waiting_at_the_hourly_quota_keeps_its_lock(db, settings, built_example, tmp_path):
    """Waiting for a quota slot writes no ledger rows; the heartbeat thread keeps beating."""
    addresses = add_subscribers(db, settings, 8, LIST)
    handler = FaultyHandler()
    controller, sink = start_sink(handler)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    env = {"SEND_RATE_PER_HOUR": "4"}
    first = _send_process(settings, sink.port, built_example, first_log, env=env)
    try:
        assert _wait(lambda: "SEND_RATE_PER_HOUR=4 reached" in first_log.read_text(), 60)
        time.sleep(3)  # longer than the 2 s staleness limit
        beat = db.execute("SELECT heartbeat FROM send_locks").fetchone()[0]
        assert time.time() - beat < 2
        second = _send_process(settings, sink.port, built_example, second_log, env=env)
        assert second.wait(timeout=60) != 0
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 130, first_log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
        controller.stop()
    assert f"is running (pid {first.pid}" in second_log.read_text()
    assert handler.copies() == dict.fromkeys(addresses[:4], 1)
