"""A one-click unsubscribe for the next person in line, while the send runs: no message
reaches the server after the 200.

The rows ahead are claimed (`sending`, message built) before their turn; the worker checks
the subscription once more between the message body and the final ".", so a person whose
unsubscribe has been answered is not mailed even when their row was claimed already.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import urllib.request

import pytest

from mailer.audience import tokens
from mailer.delivery.send import run_send
from mailer.store.db import connect
from tests.fixtures_send import add_subscribers, start_sink
from tests.fixtures_web import LiveServer, free_port

pytestmark = pytest.mark.slow

LIST = "nyhetsbrev"
PEOPLE = 40
CLICKS = 6


class TimedSink:
    """Notes when each message arrived (its final "."), then answers after 40 ms: a slow
    relay, so rows claimed ahead wait in the queue."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrived: dict[str, list[float]] = {}

    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.arrived.setdefault(rcpt, []).append(now)
        await asyncio.sleep(0.04)
        return "250 2.0.0 Accepted"

    def count(self) -> int:
        with self.lock:
            return sum(len(times) for times in self.arrived.values())


def test_unsubscribing_the_next_in_line_means_no_message_after_the_200(
    db, settings, built_example, newsletters_dir
):
    from mailer.web import create_app

    handler = TimedSink()
    controller, sink = start_sink(handler)
    web_port = free_port()
    live = sink.settings(settings, base_url=f"http://127.0.0.1:{web_port}")
    live = dataclasses.replace(live, db_path=settings.db_path)
    addresses = add_subscribers(db, live, PEOPLE, LIST)
    list_pk = db.execute("SELECT id FROM lists WHERE name = ?", [LIST]).fetchone()[0]
    people = {
        email: (sid, created)
        for sid, email, created in db.execute("SELECT id, email, created FROM subscribers")
    }
    app = create_app(live, newsletters_dir=newsletters_dir)
    errors: list[BaseException] = []

    def send():
        try:
            run_send(live, built_example, connections=1)
        except BaseException as exc:
            errors.append(exc)

    clicks: dict[str, tuple[float, str]] = {}  # email -> (time of the 200, row state then)
    try:
        with LiveServer(app, web_port):
            sender = threading.Thread(target=send)
            sender.start()
            deadline = time.monotonic() + 60
            while handler.count() < 3 and time.monotonic() < deadline:
                time.sleep(0.005)
            for _ in range(CLICKS):
                reader = connect(live.db_path)
                try:  # the next person in line: the first row whose message has not arrived
                    states = reader.execute(
                        "SELECT s.email, d.state FROM deliveries d JOIN subscribers s "
                        "ON s.id = d.subscriber_id WHERE d.issue = '2018-2' ORDER BY d.id"
                    ).fetchall()
                finally:
                    reader.close()
                with handler.lock:
                    waiting = [
                        (e, st) for e, st in states if e not in handler.arrived and e not in clicks
                    ]
                email, state = waiting[1]  # one further than the message on the wire now
                sid, created = people[email]
                token = tokens.signed_token(live.secret_key, "unsubscribe", sid, list_pk, created)
                request = urllib.request.Request(
                    f"{live.base_url}/unsubscribe/{token}",
                    data=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert response.status == 200
                clicks[email] = (time.time(), state)
                time.sleep(0.1)
            sender.join(timeout=120)
    finally:
        controller.stop()

    assert not sender.is_alive() and errors == []
    late = {
        email: [t for t in handler.arrived.get(email, []) if t >= answered]
        for email, (answered, _) in clicks.items()
    }
    assert all(times == [] for times in late.values()), late
    claimed = [email for email, (_, state) in clicks.items() if state == "sending"]
    assert len(claimed) >= CLICKS // 2  # most were claimed and built already: the real case
    rows = dict(
        db.execute(
            "SELECT s.email, d.state FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
        ).fetchall()
    )
    assert all(rows[email] == "skipped" for email in clicks if email not in handler.arrived)
    others = set(addresses) - set(clicks)
    assert others <= set(handler.arrived)
    assert all(len(handler.arrived[email]) == 1 for email in handler.arrived)
