"""`newsletter serve` on a public address: slow clients cannot shut others out, a trickling
request is cut off at its deadline, and a port in use is an error before any "Serving..."."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from mailer.config import ENV_NAMES
from tests.fixtures_web import PROJECT_ROOT, free_port, stop_process, wait_for_port

SLOW_CLIENTS = 150


def start(command: list[str], folder, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        NEWSLETTER_DB=str(folder / "subscribers.db"),
        NEWSLETTER_SECRET_KEY="serve-limits-secret-0123456789",
        NEWSLETTER_BASE_URL=f"http://127.0.0.1:{port}",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_port(port, process)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return process


def slow_client(port: int) -> socket.socket:
    """A client that starts a request and then sends one header line now and then."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


@pytest.mark.slow
def test_a_normal_request_answers_within_a_second_while_150_slow_clients_trickle(tmp_path):
    port = free_port()
    process = start([sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--port", str(port)],
                    tmp_path, port)  # fmt: skip
    clients: list[socket.socket] = []
    stop_trickle = threading.Event()

    def trickle():
        for round_ in range(30):  # bounded: at most 30 rounds of one header line each
            if stop_trickle.wait(0.5):
                return
            for sock in clients:
                with contextlib.suppress(OSError):  # closed by the server: its right
                    sock.sendall(f"X-Slow-{round_}: a\r\n".encode())

    try:
        for _ in range(SLOW_CLIENTS):
            clients.append(slow_client(port))
        worker = threading.Thread(target=trickle, daemon=True)
        worker.start()
        time.sleep(1.0)  # the server has accepted them all and they are trickling
        for _ in range(3):
            started = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                assert response.status == 200
                response.read()
            elapsed = time.monotonic() - started
            assert elapsed < 1.0, f"a normal GET took {elapsed:.2f} s beside {SLOW_CLIENTS} slow"
            time.sleep(0.5)
        open_clients = 0
        for sock in clients:
            sock.setblocking(False)
            try:
                open_clients += sock.recv(1) != b""
            except BlockingIOError:
                open_clients += 1  # still open, nothing to read: it was not shut out either
            except OSError:
                pass
        assert open_clients == SLOW_CLIENTS  # they were all accepted, none had to be dropped
    finally:
        stop_trickle.set()
        for sock in clients:
            sock.close()
        stop_process(process)


@pytest.mark.slow
def test_a_request_that_trickles_past_its_deadline_is_closed(tmp_path):
    port = free_port()
    code = (
        "import sys; from mailer.config import load_settings; "
        "from mailer.web.server import serve; "
        f"serve(load_settings(), port={port}, request_deadline=2.0, announce=lambda t: None)"
    )
    process = start([sys.executable, "-c", code], tmp_path, port)
    sock = slow_client(port)
    try:
        closed_after = None
        started = time.monotonic()
        for round_ in range(40):  # bounded: 40 x 0.25 s
            time.sleep(0.25)
            try:
                sock.sendall(f"X-Slow-{round_}: a\r\n".encode())
                sock.settimeout(0.01)
                if sock.recv(1) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                continue
            except OSError:
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None, "the trickling request was never cut off"
        assert 1.5 < closed_after < 6.0
    finally:
        sock.close()
        stop_process(process)


@pytest.mark.parametrize("command", ["serve", "preview"])
def test_a_port_in_use_is_an_error_before_anything_says_serving(command, tmp_path, issue_factory):
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(NEWSLETTER_SECRET_KEY="serve-limits-secret-0123456789", PYTHONPATH=str(PROJECT_ROOT))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--port", str(port)]
        if command == "preview":
            args = ["preview", str(issue_factory()), "--port", str(port)]
        result = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "cli.py"), *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"127.0.0.1:{port}: cannot listen" in result.stderr
    assert "Serving" not in result.stdout + result.stderr
    assert "Preview of" not in result.stdout + result.stderr
