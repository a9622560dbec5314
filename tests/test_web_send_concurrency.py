"""50 one-click unsubscribes over real HTTP while `run_send` mails the same list.

Exact rule checked: right after a person's POST returns, their ledger row is looked at. If it
was not yet claimed for sending (queued, or no row), they must never receive the issue: every
later claim re-checks the subscription inside the same write-locked transaction. Rows already
claimed (`sending`/`sent`) were taken before the unsubscribe committed and may still arrive.

The order of events is made certain, not left to timing: the SMTP sink holds the send after
its first messages until half of the clicks have been answered, then lets it run while the
other half are still arriving. So some clicks always come before the send reaches the
clickers (on a loaded machine a free-running send could finish first, and the test then
proved nothing and failed), and the rest really race with a running send.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from mailer.audience.tokens import issue_token
from mailer.compose.build import build_issue
from mailer.store.db import connect, transaction, utc_now
from tests.fixtures_web import LiveServer, SinkHandler, free_port

pytestmark = pytest.mark.slow

PEOPLE = 400
CLICKERS = 50


HOLD_AFTER = 20  # messages the sink accepts before it holds the send
RELEASE_AFTER = CLICKERS // 2  # clicks answered before the send may go on


class GatedSink(SinkHandler):
    """Takes a moment per message; after HOLD_AFTER messages it waits for `gate` (bounded)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.003)
        if len(self.messages) >= HOLD_AFTER and not self.gate.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 60)
        with self.received:
            self.messages.extend(envelope.rcpt_tos)
            self.received.notify_all()
        return "250 OK"


def add_people(db, count: int, list_pk: int) -> list[tuple[int, str]]:
    """`count` active subscribers, inserted in one transaction (setup, not under test)."""
    now = utc_now()
    people = []
    with transaction(db):
        for number in range(count):
            email = f"reader{number:04d}@example.se"
            sid = db.execute(
                "INSERT INTO subscribers (email, name, language, created) VALUES (?, '', 'sv', ?)",
                [email, now],
            ).lastrowid
            event = db.execute(
                "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, "
                "lawful_basis) VALUES (?, 'add', ?, ?, 'test', 'consent')",
                [now, sid, list_pk],
            ).lastrowid
            db.execute(
                "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated, "
                "consent_event_id) VALUES (?, ?, 'active', ?, ?, ?)",
                [sid, list_pk, now, now, event],
            )
            people.append((sid, email))
    return people


def test_one_click_unsubscribes_during_a_send_all_succeed_and_stop_the_mail(
    settings, db, built_examples, tmp_path, newsletters_dir
):
    import shutil

    from aiosmtpd.controller import Controller

    from mailer.audience.subscribers import ensure_list
    from mailer.delivery.send import run_send
    from mailer.web import create_app

    sink = GatedSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    web_port = free_port()
    live = dataclasses.replace(
        settings,
        base_url=f"http://127.0.0.1:{web_port}",
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_security="none",
    )
    shutil.copytree(built_examples, newsletters_dir, dirs_exist_ok=True)
    issue_dir = newsletters_dir / "2018-2"
    build_issue(issue_dir, live)
    list_pk = ensure_list(db, "nyhetsbrev", "Nyhetsbrevet")
    people = add_people(db, PEOPLE, list_pk)
    clickers = people[-CLICKERS:]  # near the end of the send order: the send reaches them late
    tokens = {sid: issue_token(db, "unsubscribe", sid, list_pk) for sid, _ in clickers}
    app = create_app(live, newsletters_dir=newsletters_dir)
    results: dict[int, tuple[int, str | None]] = {}
    answered = threading.Semaphore(0)
    send_errors: list[BaseException] = []

    def send():
        try:
            run_send(live, issue_dir, connections=2)
        except BaseException as exc:  # reported by the assertion below
            send_errors.append(exc)

    def click(person):
        sid, _ = person
        request = urllib.request.Request(
            f"{live.base_url}/unsubscribe/{tokens[sid]}",
            data=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except Exception as exc:
            results[sid] = (repr(exc), None)
            answered.release()
            return
        reader = connect(live.db_path)  # the ledger, as it stands right after the answer
        try:
            row = reader.execute(
                "SELECT state FROM deliveries WHERE issue = '2018-2' AND subscriber_id = ?",
                [sid],
            ).fetchone()
        finally:
            reader.close()
        results[sid] = (status, row[0] if row else None)
        answered.release()

    try:
        with LiveServer(app, web_port):
            sender = threading.Thread(target=send)
            sender.start()
            under_way = len(sink.wait_for(HOLD_AFTER, timeout=60)) >= HOLD_AFTER
            with ThreadPoolExecutor(max_workers=CLICKERS) as pool:
                clicks = pool.map(click, clickers)
                for _ in range(RELEASE_AFTER):  # bounded: every click releases once
                    answered.acquire(timeout=60)
                sink.gate.set()  # the send goes on while the other clicks arrive
                list(clicks)
            sender.join(timeout=300)
    finally:
        sink.gate.set()
        controller.stop()

    assert under_way and not sender.is_alive() and send_errors == []
    assert [sid for sid, (status, _) in results.items() if status != 200] == []
    assert len(results) == CLICKERS
    mailed = set(sink.messages)
    not_yet_claimed = {
        email for sid, email in clickers if results[sid][1] in (None, "queued", "deferred")
    }
    assert len(not_yet_claimed) >= RELEASE_AFTER  # answered while the send was held
    assert mailed & not_yet_claimed == set()
    others = {email for _, email in people[:-CLICKERS]}
    assert others <= mailed  # everybody else got the issue
    assert len(sink.messages) == len(mailed)  # and nobody got it twice
