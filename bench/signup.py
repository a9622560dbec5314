"""Sign-up answer time by address state: new, active, unsubscribed and erased addresses.

Starts `newsletter serve` (waitress) on 127.0.0.1 with a fresh database and an SMTP sink,
then POSTs the sign-up form for addresses of each state, interleaved in random order, and
prints p50/p90 of the POST's answer time per state and its ratio to new addresses. The page
must not tell who is subscribed: the ratios should stay near 1.0 (issue 11). Each POST comes
from its own X-Forwarded-For address (serve trusts 127.0.0.1) so the per-IP limit stays out of
the way; each address signs up once.

    python bench/signup.py [--per-state 100]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web import free_port, start_sink, wait_for_port  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef"  # noqa: S105 - a throwaway database
STATES = ("new", "active", "unsubscribed", "erased")


def prepare(env: dict, per_state: int) -> dict[str, list[str]]:
    from mailer.audience.consent import erase_subscriber
    from mailer.audience.roster import add_subscriber, unsubscribe_address
    from mailer.audience.subscribers import ensure_list
    from mailer.config import load_settings
    from mailer.store.db import open_db

    settings = load_settings({}, env_file=None, environ=env)
    db = open_db(settings.db_path)
    ensure_list(db, "nyhetsbrev", "Nyhetsbrevet")
    addresses = {state: [f"{state}{i}@example.se" for i in range(per_state)] for state in STATES}
    for state in ("active", "unsubscribed", "erased"):
        for email in addresses[state]:
            add_subscriber(db, settings, email, list_name="nyhetsbrev")
            if state == "unsubscribed":
                unsubscribe_address(db, email)
            elif state == "erased":
                erase_subscriber(db, settings, email)
    db.close()
    return addresses


def sign_up(port: int, email: str, client_ip: str) -> float:
    """GET the form (cookie and CSRF field), then time the POST alone."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Forwarded-For": client_ip}
    conn.request("GET", "/subscribe", headers=headers)
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    form = urllib.parse.urlencode(
        {
            "email": email,
            "name": "",
            "language": "sv",
            "lists": "nyhetsbrev",
            "csrf_token": re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1),
            "page_lang": "sv",
        }
    )
    headers.update({"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    started = time.perf_counter()
    conn.request("POST", "/subscribe", body=form, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 200:
        raise SystemExit(f"sign-up of {email} answered {response.status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-state", type=int, default=100, help="sign-ups per address state")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-signup-"))
    http_port, smtp_port = free_port(), free_port()
    env = {
        **os.environ,
        "NEWSLETTER_DB": str(folder / "subscribers.db"),
        "NEWSLETTER_SECRET_KEY": SECRET,
        "NEWSLETTER_BASE_URL": f"http://127.0.0.1:{http_port}",
        "NEWSLETTER_FROM": "Bench <nyhetsbrev@example.se>",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
    }
    addresses = prepare(env, args.per_state)
    sink = start_sink(smtp_port)
    command = [sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(http_port),
               "--trusted-proxy", "127.0.0.1"]  # fmt: skip
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(http_port, server)
        work = [(state, email) for state in STATES for email in addresses[state]]
        random.Random(1).shuffle(work)
        times: dict[str, list[float]] = {state: [] for state in STATES}
        for number, (state, email) in enumerate(work):
            client_ip = f"10.{number // 65536}.{number // 256 % 256}.{number % 256}"
            times[state].append(sign_up(http_port, email, client_ip))
    finally:
        server.terminate()
        server.wait(timeout=10)
        sink.terminate()
        sink.wait(timeout=10)
    base = statistics.median(times["new"])
    print(f"sign-up POST answer time, {args.per_state} per state, interleaved:")
    for state in STATES:
        values = sorted(times[state])
        p50 = statistics.median(values)
        p90 = values[int(len(values) * 0.9) - 1]
        print(
            f"  {state:<13} p50 {p50 * 1000:6.2f} ms  p90 {p90 * 1000:6.2f} ms  "
            f"p50 ratio to new {p50 / base:4.2f}"
        )


if __name__ == "__main__":
    main()
