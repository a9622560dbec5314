"""kill -9 during a send of 2,000 messages, several times, then resume: nobody lost, and the
only duplicates are the messages in flight when a kill hit: at most one per connection (each
250 is committed before the connection starts its next message)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from mailer.store.db import open_db
from tests.fixtures_send import PROJECT_ROOT, add_subscribers, smtp_environment, start_sink

RECIPIENTS = 2000
CONNECTIONS = 2
KILL_AFTER = (150, 700, 1300)  # messages received by the sink (cumulative) before each kill
MESSAGE_ID = re.compile(rb"^Message-ID: (.+?)\r$", re.MULTILINE | re.IGNORECASE)


class CountingHandler:
    """Keeps only (recipient, Message-ID) per message: 2,000 full copies are not needed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        header = envelope.content.split(b"\r\n\r\n", 1)[0]
        message_id = MESSAGE_ID.search(header).group(1)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, message_id))
        return "250 2.0.0 Accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def start_send(db_path, issue, port, settings, log_path) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")},
        **smtp_environment(settings, port),
    }
    command = [
        sys.executable,
        "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); from cli import cli; cli(sys.argv[2:])",
        str(PROJECT_ROOT),
        "--db",
        str(db_path),
        "send",
        str(issue),
        "--yes",
        "--connections",
        str(CONNECTIONS),
    ]
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
def test_kill_9_at_several_points_then_resume_loses_nobody(db, settings, built_example, tmp_path):
    addresses = add_subscribers(db, settings, RECIPIENTS, "nyhetsbrev")
    handler = CountingHandler()
    controller, sink = start_sink(handler)
    log_path = tmp_path / "send.log"
    in_flight_at_kills = []
    try:
        for threshold in KILL_AFTER:
            process = start_send(settings.db_path, built_example, sink.port, settings, log_path)
            reached = wait_for(lambda t=threshold: handler.count() >= t, timeout=60)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            assert reached, log_path.read_text()
            check = open_db(settings.db_path)
            in_flight_at_kills.append(
                check.execute("SELECT count(*) FROM deliveries WHERE state = 'sending'").fetchone()[
                    0
                ]
            )
            check.close()
        final = start_send(settings.db_path, built_example, sink.port, settings, log_path)
        assert final.wait(timeout=120) == 0, log_path.read_text()
        assert wait_for(lambda: handler.count() >= RECIPIENTS, timeout=10)
    finally:
        controller.stop()

    copies: dict[str, set[bytes]] = {}
    total = 0
    for rcpt, message_id in handler.received:
        copies.setdefault(rcpt, set()).add(message_id)
        total += 1
    assert set(copies) == set(addresses)  # every active subscriber has at least one copy
    duplicates = total - len(copies)
    assert duplicates <= CONNECTIONS * len(KILL_AFTER)  # one per connection and kill at most
    assert duplicates <= sum(in_flight_at_kills)
    assert all(len(ids) == 1 for ids in copies.values())  # a duplicate has the same Message-ID
    states = dict(db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
    assert states == {"sent": RECIPIENTS}
    assert "in flight when an earlier run stopped" in log_path.read_text()
    print(f"in flight at the kills: {in_flight_at_kills}, duplicates: {duplicates}")


@pytest.mark.slow
def test_ctrl_c_stops_after_the_messages_in_flight_and_says_how_to_resume(
    db, settings, built_example, tmp_path
):
    addresses = add_subscribers(db, settings, 400, "nyhetsbrev")
    handler = CountingHandler()
    controller, sink = start_sink(handler)
    log_path = tmp_path / "send.log"
    try:
        process = start_send(settings.db_path, built_example, sink.port, settings, log_path)
        reached = wait_for(lambda: handler.count() >= 100, timeout=60)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130, log_path.read_text()
        assert reached
        states = dict(db.execute("SELECT state, count(*) FROM deliveries GROUP BY state"))
        assert "sending" not in states  # everything in flight was finished and recorded
        assert states["sent"] == handler.count() < 400
        assert f"Resume with: newsletter send {built_example}" in log_path.read_text()
        resumed = start_send(settings.db_path, built_example, sink.port, settings, log_path)
        assert resumed.wait(timeout=60) == 0, log_path.read_text()
    finally:
        controller.stop()
    recipients = [rcpt for rcpt, _ in handler.received]
    assert sorted(recipients) == sorted(addresses)  # each exactly once
