"""Sending from the laptop, the server sends: two site folders on one machine, a "server"
(`newsletter serve` as a real process on 127.0.0.1 with an aiosmtpd relay) and a "laptop" with no
database, whose `newsletter send` uploads the issue and watches the server send it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.config import ENV_NAMES
from mailer.store.db import open_db
from tests.fixtures_send import FIXTURE_ISSUES, FaultyHandler, copy_shared, start_sink
from tests.fixtures_web import PROJECT_ROOT, free_port, wait_for_port

pytestmark = pytest.mark.slow

BASE_URL = "https://news.example.org"
FROM = "Region Örebro län <nyhetsbrev@example.se>"
ISSUES = ("2026-10-partnerskapsmote", "2026-11-graenseregion")
PEOPLE = ("anna@example.se", "bo@example.se", "cecilia@example.se")


class GatedHandler(FaultyHandler):
    """Keeps every message; while `hold` is set, the DATA of each message waits for `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = threading.Event()
        self.release = threading.Event()
        self.waiting = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold.is_set():
            self.waiting.set()
            self.release.wait(timeout=60)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Sites:
    server: Path
    laptop: Path
    port: int
    handler: GatedHandler
    env: dict
    token: str
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--port", str(self.port)],
            cwd=self.server,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_port(self.port, self.process)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.process.stderr.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
                self.process.stderr.close()
            except subprocess.TimeoutExpired:
                self.kill()

    def db(self):
        return open_db(self.server / "subscribers.db")

    def add_people(self, people=PEOPLE, list_name="nyhetsbrev") -> None:
        from mailer.audience.roster import add_subscriber
        from mailer.config import load_settings

        settings = load_settings(env_file=self.server / ".env", environ={})
        db = self.db()
        try:
            for address in people:
                add_subscriber(db, settings, address, list_name=list_name)
        finally:
            db.close()

    def laptop_cli(self, *args: str):
        """`newsletter ARGS` run in the laptop folder (in this process)."""
        from cli import cli

        before = Path.cwd()
        os.chdir(self.laptop)
        try:
            return CliRunner().invoke(cli, list(args), catch_exceptions=False)
        finally:
            os.chdir(before)

    def laptop_process(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "cli.py"), *args],
            cwd=self.laptop,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def job_state(self, issue: str) -> str | None:
        db = self.db()
        try:
            row = db.execute(
                "SELECT state FROM remote_sends WHERE issue = ? ORDER BY id DESC LIMIT 1", [issue]
            ).fetchone()
            return row[0] if row else None
        finally:
            db.close()


def wait_until(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def sites(tmp_path):
    """The server (serve running, a relay, a token) and the laptop (issues, .env, no database)."""
    from mailer.remote.tokens import create_token

    handler = GatedHandler()
    controller, sink = start_sink(handler)
    server, laptop, port = tmp_path / "server", tmp_path / "laptop", free_port()
    server.mkdir()
    (server / ".env").write_text(
        f"NEWSLETTER_DB={server / 'subscribers.db'}\n"
        "NEWSLETTER_SECRET_KEY=server-secret-0123456789\n"
        f"NEWSLETTER_BASE_URL={BASE_URL}\nNEWSLETTER_FROM={FROM}\nSMTP_HOST=127.0.0.1\n"
        f"SMTP_PORT={sink.port}\nSMTP_SECURITY=none\n",
        encoding="utf-8",
    )
    db = open_db(server / "subscribers.db")
    token = create_token(db, "anna-laptop")
    db.close()
    (laptop / "newsletters").mkdir(parents=True)
    for slug in ISSUES:
        shutil.copytree(FIXTURE_ISSUES / slug, laptop / "newsletters" / slug)
    copy_shared(laptop / "newsletters")
    (laptop / ".env").write_text(
        f"NEWSLETTER_SERVER=http://127.0.0.1:{port}\nNEWSLETTER_API_TOKEN={token}\n"
        f"NEWSLETTER_BASE_URL={BASE_URL}\nNEWSLETTER_FROM={FROM}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    found = Sites(server, laptop, port, handler, env, token)
    found.start()
    yield found
    handler.release.set()
    found.stop()
    controller.stop()


def one_click(sites: Sites, message) -> int:
    """The one-click unsubscribe a mail provider makes: POST to the List-Unsubscribe address,
    sent to the server's own port (the address names the public host)."""
    url = re.search(r"<(https://[^>]+)>", str(message["List-Unsubscribe"])).group(1)
    path = url.removeprefix(BASE_URL)
    request = urllib.request.Request(
        sites.url + path, data=b"List-Unsubscribe=One-Click", method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_the_laptop_sends_through_the_server_and_an_unsubscribe_there_holds(sites):
    (sites.laptop / "people.csv").write_text(
        "email,name\n" + "".join(f"{a},{a.split('@')[0].title()}\n" for a in PEOPLE),
        encoding="utf-8",
    )
    imported = sites.laptop_cli("subscribers", "import", "people.csv", "--list", "nyhetsbrev")
    assert imported.exit_code == 0, imported.output
    first, second = ISSUES
    sent = sites.laptop_cli("send", f"newsletters/{first}", "--list", "nyhetsbrev", "--yes")
    assert sent.exit_code == 0, sent.output
    assert "Recipients: 3 to send now" in sent.output and "3 sent" in sent.output
    assert sorted(sites.handler.copies()) == sorted(PEOPLE)
    bo = sites.handler.for_rcpt("bo@example.se")[0].parsed()
    assert one_click(sites, bo) == 200

    again = sites.laptop_cli("send", f"newsletters/{second}", "--list", "nyhetsbrev", "--yes")
    assert again.exit_code == 0, again.output
    assert "Recipients: 2 to send now" in again.output
    assert sorted(sites.handler.copies().items()) == [
        ("anna@example.se", 2),
        ("bo@example.se", 1),
        ("cecilia@example.se", 2),
    ]
    for slug in ISSUES:
        assert sites.get(f"/archive/{slug}/") == 200
        build = sites.server / "newsletters" / slug / "build"
        images = sorted(p.name for p in (build / "images").iterdir())
        calendars = sorted(p.name for p in build.glob("*.ics"))
        assert images and all(sites.get(f"/archive/{slug}/images/{n}") == 200 for n in images)
        assert all(sites.get(f"/archive/{slug}/{name}") == 200 for name in calendars)
    assert list((sites.server / "newsletters" / first / "build").glob("*.ics"))
    with urllib.request.urlopen(sites.url + "/feed.xml", timeout=10) as response:
        feed = response.read().decode()
    assert all(f"/archive/{slug}/" in feed for slug in ISSUES)
    assert not list(sites.laptop.rglob("*.db"))

    status = sites.laptop_cli("send-status", f"newsletters/{first}")
    assert status.exit_code == 0, status.output
    assert f"{first}: 3 sent" in status.output and "done, 3 of 3" in status.output

    once_more = sites.laptop_cli("send", f"newsletters/{second}", "--list", "nyhetsbrev", "--yes")
    assert once_more.exit_code == 0 and "Nobody left to mail: 2 already sent" in once_more.output
    assert sum(sites.handler.copies().values()) == 5


def test_a_cut_upload_queues_nothing_and_the_same_command_then_sends_once(sites):
    sites.add_people()
    from mailer.compose import bundle

    slug = ISSUES[0]
    assert sites.laptop_cli("build", f"newsletters/{slug}").exit_code == 0
    packed = bundle.pack(sites.laptop / "newsletters" / slug)
    with socket.create_connection(("127.0.0.1", sites.port)) as sock:
        sock.sendall(
            f"POST /api/v1/bundles?sha256={packed.sha256} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {len(packed.data)}\r\nAuthorization: Bearer {sites.token}\r\n"
            "Content-Type: application/x-tar\r\n\r\n".encode()
            + packed.data[: len(packed.data) // 2]
        )  # the connection drops halfway through the bundle
    assert sites.get("/api/version") == 200  # the server lives on
    assert not (sites.server / "newsletters" / slug).exists() and sites.job_state(slug) is None
    sent = sites.laptop_cli("send", f"newsletters/{slug}", "--list", "nyhetsbrev", "--yes")
    assert sent.exit_code == 0, sent.output
    assert sorted(sites.handler.copies().values()) == [1, 1, 1]


def test_detach_returns_at_once_and_ctrl_c_stops_watching_not_sending(sites):
    sites.add_people()
    first, second = ISSUES
    sites.handler.hold.set()
    detached = sites.laptop_cli(
        "send", f"newsletters/{first}", "--list", "nyhetsbrev", "--yes", "--detach"
    )
    assert detached.exit_code == 0, detached.output
    assert f"newsletter send-status newsletters/{first}" in detached.output
    assert sites.handler.waiting.wait(30) and sites.handler.count() == 0  # sending, held
    sites.handler.release.set()
    assert wait_until(lambda: sites.job_state(first) == "done")

    sites.handler.release.clear()
    sites.handler.waiting.clear()
    watching = sites.laptop_process("send", f"newsletters/{second}", "--list", "nyhetsbrev", "-y")
    assert sites.handler.waiting.wait(60)
    watching.send_signal(signal.SIGINT)
    _out, err = watching.communicate(timeout=30)
    assert watching.returncode == 130, err
    assert "Stopped watching; the server goes on sending" in err and "send-status" in err
    sites.handler.release.set()
    assert wait_until(lambda: sites.job_state(second) == "done")
    assert sorted(sites.handler.copies().values()) == [2, 2, 2]


def test_serve_killed_mid_send_continues_after_a_restart_with_at_most_one_duplicate(sites):
    people = [f"p{n}@example.se" for n in range(6)]
    sites.add_people(people)
    slug = ISSUES[0]
    sites.handler.hold.set()
    sent = sites.laptop_cli("send", f"newsletters/{slug}", "--list", "nyhetsbrev", "-y", "--detach")
    assert sent.exit_code == 0, sent.output
    assert sites.handler.waiting.wait(30)
    sites.kill()  # in the middle of a message: its 250 never reaches the server
    sites.handler.hold.clear()
    sites.handler.release.set()
    assert sites.job_state(slug) == "sending"
    sites.start()
    assert wait_until(lambda: sites.job_state(slug) == "done")
    copies = sites.handler.copies()
    assert sorted(copies) == sorted(people)
    assert sum(copies.values()) - len(people) <= 1  # one connection: at most one duplicate


def test_a_test_copy_and_a_scheduled_send_from_the_laptop_happen_on_the_server(sites):
    sites.add_people()
    slug = ISSUES[0]
    copy = sites.laptop_cli("send", f"newsletters/{slug}", "--to", "me@example.se")
    assert copy.exit_code == 0 and "sent by the server to me@example.se" in copy.output
    assert list(sites.handler.copies()) == ["me@example.se"]
    at = ("--at", "2099-12-03 08:00")
    scheduled = sites.laptop_cli("send", f"newsletters/{slug}", "--list", "nyhetsbrev", *at, "-y")
    assert scheduled.exit_code == 0, scheduled.output
    assert "scheduled on the server for 2099-12-03 08:00" in scheduled.output
    listed = sites.laptop_cli("scheduled", "list")
    assert f"{slug}  nyhetsbrev  2099-12-03 08:00" in listed.output and "waiting" in listed.output
    cancelled = sites.laptop_cli("scheduled", "cancel", slug)
    assert cancelled.exit_code == 0 and f"Cancelled: {slug} to nyhetsbrev" in cancelled.output
    assert "Nothing scheduled" in sites.laptop_cli("scheduled", "list").output
    assert not list(sites.laptop.rglob("*.db"))
