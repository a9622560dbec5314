"""Fixtures for the web tests: an SMTP sink, the app and its client, people with tokens, a live
waitress server on 127.0.0.1, and built example issues copied out of the project."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURE_ISSUES = Path(__file__).resolve().parent / "fixtures" / "issues"
LISTS = {"nyhetsbrev": "Nyhetsbrevet", "kalender": "Kalendariet"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    """Wait until a server process started by a test listens on 127.0.0.1:`port` (~20 s)."""
    for _ in range(200):
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.stderr.read()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the server did not start listening")


def stop_process(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """Stop a server process a test started: SIGTERM, then SIGKILL if it hangs; close its
    pipes (one helper for serve, nginx, dovecot and the installed wheel's server)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


class SinkHandler:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages = []
        self.port = 0
        self.received = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self.received:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.received.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        with self.received:
            self.received.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        return self.messages


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 collecting messages (aiosmtpd)."""
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def web_settings(settings, smtp_sink):
    """The test settings, mailing through the SMTP sink."""
    return dataclasses.replace(
        settings, smtp_host="127.0.0.1", smtp_port=smtp_sink.port, smtp_security="none"
    )


@pytest.fixture
def newsletters_dir(tmp_path) -> Path:
    """An empty newsletters folder for the archive (tests copy or build issues into it)."""
    path = tmp_path / "newsletters"
    path.mkdir()
    return path


@pytest.fixture
def web_app(web_settings, newsletters_dir, db):
    """The app with confirmation mail sent inline (so tests can look at it at once)."""
    from mailer.web import create_app

    return create_app(
        web_settings,
        test_config={"TESTING": True, "MAIL_IN_BACKGROUND": False},
        newsletters_dir=newsletters_dir,
    )


@pytest.fixture
def client(web_app):
    return web_app.test_client()


@pytest.fixture
def lists(db) -> dict[str, int]:
    """Two lists with titles: name -> id."""
    from mailer.audience.subscribers import ensure_list

    return {name: ensure_list(db, name, title) for name, title in LISTS.items()}


@dataclasses.dataclass
class Person:
    id: int
    email: str
    unsubscribe: str  # unsubscribe token for the "nyhetsbrev" list
    preferences: str  # preferences token


def make_person(db, settings, email, *, name="Anna Berg", language="sv", lists=("nyhetsbrev",)):
    """Someone active on `lists`, with an unsubscribe token (first list) and a preferences token."""
    from mailer.audience.roster import add_subscriber
    from mailer.audience.subscribers import get_subscriber, list_id
    from mailer.audience.tokens import issue_token

    for list_name in lists:
        add_subscriber(db, settings, email, name=name, list_name=list_name, language=language)
    subscriber = get_subscriber(db, email)
    return Person(
        subscriber["id"],
        subscriber["email"],
        issue_token(db, "unsubscribe", subscriber["id"], list_id(db, lists[0])),
        issue_token(db, "preferences", subscriber["id"]),
    )


@pytest.fixture
def person(db, settings, lists) -> Person:
    """Anna, active on both lists, Swedish."""
    return make_person(db, settings, "anna@example.se", lists=("nyhetsbrev", "kalender"))


def statuses(db, subscriber_id: int) -> dict[str, str]:
    return dict(
        db.execute(
            "SELECT lists.name, sub.status FROM subscriptions sub JOIN lists "
            "ON lists.id = sub.list_id WHERE subscriber_id = ?",
            [subscriber_id],
        ).fetchall()
    )


def consent_events(db, subscriber_id: int) -> list[dict]:
    cursor = db.execute(
        "SELECT action, channel, ip, user_agent, list_id, consent_text_id, detail "
        "FROM consent_log WHERE subscriber_id = ? ORDER BY id",
        [subscriber_id],
    )
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def mark_sent(db, slug: str) -> None:
    """Record one `sent` delivery for issue `slug` (what makes it appear in the archive)."""
    from mailer.store.db import transaction, utc_now

    now = utc_now()
    with transaction(db):
        db.execute(
            "INSERT INTO deliveries (issue, subscriber_id, list_id, state, queued_at, "
            "updated_at, sent_at) VALUES (?, NULL, NULL, 'sent', ?, ?, ?)",
            [slug, now, now, now],
        )


def example_slugs() -> list[str]:
    root = FIXTURE_ISSUES
    return sorted(p.parent.name for p in root.glob("*/issue.md"))


@pytest.fixture(scope="session")
def built_examples(tmp_path_factory) -> Path:
    """The project's example issues, copied and built once per test session."""
    from mailer.compose.build import build_issue
    from mailer.config import load_settings

    settings = load_settings({"base_url": "https://news.example.se"}, env_file=None, environ={})
    root = tmp_path_factory.mktemp("built") / "newsletters"
    shutil.copytree(FIXTURE_ISSUES, root, ignore=shutil.ignore_patterns("build", ".build-*"))
    for slug in example_slugs():
        build_issue(root / slug, settings)
    return root


@pytest.fixture
def built_issues(newsletters_dir, built_examples) -> list[str]:
    """The built examples in this test's newsletters folder; returns their slugs."""
    shutil.copytree(built_examples, newsletters_dir, dirs_exist_ok=True)
    return example_slugs()


class LiveServer:
    """The app served by waitress in a thread on 127.0.0.1 (real HTTP, real browser)."""

    def __init__(self, app, port: int) -> None:
        import waitress.server

        self.url = f"http://127.0.0.1:{port}"
        self.server = waitress.server.create_server(
            app, host="127.0.0.1", port=port, threads=8, clear_untrusted_proxy_headers=True
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        # Requests still being answered finish first (a finished task wakes the loop through
        # the trigger, which must still be open); then the sockets are closed inside the loop's
        # own thread, never under its select() (that raced: EBADF in the server thread).
        self.server.task_dispatcher.shutdown()

        def stop() -> None:
            self.server.close()
            for channel in list(self.server._map.values()):
                channel.close()
            self.server._map.clear()

        self.server.trigger.pull_trigger(stop)
        self.thread.join(timeout=5)


@pytest.fixture
def live_port() -> int:
    return free_port()


@pytest.fixture
def live_settings(web_settings, live_port):
    """Settings whose base URL is the live server's, so the pages' links lead back to it."""
    return dataclasses.replace(web_settings, base_url=f"http://127.0.0.1:{live_port}")


@pytest.fixture
def live_server(live_settings, live_port, newsletters_dir, db):
    from mailer.web import create_app

    app = create_app(live_settings, newsletters_dir=newsletters_dir)
    with LiveServer(app, live_port) as server:
        yield server
    app.extensions["outbox"].join()
    app.extensions["outbox"].stop()
