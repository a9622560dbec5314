"""`newsletter serve` as a real process: sign-ups made while the relay is down survive a kill of
the server and are mailed by the next one."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from aiosmtpd.controller import Controller

from mailer.config import ENV_NAMES, load_settings
from mailer.store.db import open_db
from tests.fixtures_send import FaultyHandler
from tests.fixtures_web import PROJECT_ROOT, free_port, wait_for_port

pytestmark = pytest.mark.slow


def start_serve(folder, env, port) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_port(port, process)
    return process


def sign_up_over_http(base_url: str, email: str) -> int:
    """As a browser would: GET the form (CSRF cookie and field), POST it."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base_url}/subscribe", timeout=10) as response:
        page = response.read().decode()
    form = {
        "email": email,
        "name": "",
        "language": "sv",
        "lists": "nyhetsbrev",
        "csrf_token": re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1),
        "page_lang": "sv",
    }
    data = urllib.parse.urlencode(form).encode()
    with opener.open(f"{base_url}/subscribe", data=data, timeout=10) as response:
        return response.status


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_service_mail_waiting_when_serve_is_killed_is_sent_after_the_restart(tmp_path):
    smtp_port, http_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{http_port}"
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        NEWSLETTER_DB=str(tmp_path / "subscribers.db"),
        NEWSLETTER_SECRET_KEY="serve-test-secret-0123456789",
        NEWSLETTER_BASE_URL=base_url,
        NEWSLETTER_FROM="Region Örebro län <nyhetsbrev@example.se>",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),  # nothing listens there yet: the relay is down
        SMTP_SECURITY="none",
        SMTP_TIMEOUT="5",
    )
    db = open_db(load_settings({}, env_file=None, environ=env).db_path)
    from mailer.audience.subscribers import ensure_list

    ensure_list(db, "nyhetsbrev", "Nyhetsbrevet")
    people = ["forst@example.se", "sedan@example.se"]
    first = start_serve(tmp_path, env, http_port)
    try:
        for address in people:
            assert sign_up_over_http(base_url, address) == 200

        def tried_once() -> bool:
            rows = db.execute(
                "SELECT kind, attempts FROM service_mail WHERE state = 'waiting'"
            ).fetchall()
            return rows == [("confirmation", 1), ("confirmation", 1)]

        assert wait_until(tried_once)  # the relay refused the connection; they wait (60 s)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        first.stderr.close()
    handler = FaultyHandler()
    relay = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    relay.start()
    second = start_serve(tmp_path, env, http_port)
    try:
        assert wait_until(lambda: handler.count() >= len(people))
        assert handler.copies() == dict.fromkeys(people, 1)
        for received in handler.received:
            assert f"{base_url}/confirm/".encode() in received.data
        assert wait_until(
            lambda: db.execute("SELECT count(*) FROM service_mail").fetchone()[0] == 0
        )
    finally:
        second.terminate()
        second.wait(timeout=10)
        second.stderr.close()
        relay.stop()
        db.close()
