"""Web endpoint speed: one-click unsubscribe POSTs and archive GETs over loopback.

Starts `newsletter serve` (waitress, as in production) on 127.0.0.1 with a fresh database of
subscribers, then runs client threads with keep-alive connections and prints requests per
second, p50 and p99 latency and errors for:
- one-click unsubscribe POSTs (each a real unsubscribe, committed before the answer);
- GETs of an archived issue (/archive/<slug>/);
- both again while `newsletter send` mails the list into postfix's smtp-sink (or aiosmtpd).
Targets (issue 5): p99 under 100 ms, zero errors.

    python bench/web.py [--requests 2000] [--clients 8] [--recipients 5000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "fixtures" / "issues"  # the bundled examples, not the user's
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-0123456789abcdef"  # noqa: S105 - a throwaway database
SLUG = "2018-2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"process exited early with status {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def start_sink(port: int) -> subprocess.Popen:
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if os.path.exists(sink):
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        command = [sink, *user, f"127.0.0.1:{port}", "256"]
    else:
        command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                   "-c", "aiosmtpd.handlers.Sink"]  # fmt: skip
    process = subprocess.Popen(command)
    wait_for_port(port, process)
    return process


def add_readers(db, list_pk: int, numbers, now: str, *, digits: int = 6) -> list[int]:
    """Active readers `reader{number}@example.se` on the list, each with its consent event, in
    the caller's transaction (bench/remote_send.py fills its lists with it too)."""
    ids = []
    for number in numbers:
        sid = db.execute(
            "INSERT INTO subscribers (email, name, language, created) VALUES (?, '', 'sv', ?)",
            [f"reader{number:0{digits}d}@example.se", now],
        ).lastrowid
        event = db.execute(
            "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, "
            "lawful_basis) VALUES (?, 'add', ?, ?, 'bench', 'consent')",
            [now, sid, list_pk],
        ).lastrowid
        db.execute(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated, "
            "consent_event_id) VALUES (?, ?, 'active', ?, ?, ?)",
            [sid, list_pk, now, now, event],
        )
        ids.append(sid)
    return ids


def prepare(folder: Path, env: dict, recipients: int, clicks: int) -> list[str]:
    """Database with `recipients` active readers, the example built and archived; returns
    one unsubscribe token per click: the signed link each person's issue carries (as
    `newsletter send` makes it), not a token stored for the bench."""
    from mailer.audience.subscribers import ensure_list
    from mailer.audience.tokens import signed_token
    from mailer.compose.build import build_issue
    from mailer.config import load_settings
    from mailer.store.db import open_db, transaction, utc_now

    settings = load_settings({}, env_file=None, environ=env)
    shutil.copytree(EXAMPLES, folder / "newsletters",
                    ignore=shutil.ignore_patterns("build", ".build-*"))  # fmt: skip
    build_issue(folder / "newsletters" / SLUG, settings)
    db = open_db(settings.db_path)
    list_pk = ensure_list(db, "nyhetsbrev", "Nyhetsbrevet")
    now = utc_now()
    with transaction(db):
        ids = add_readers(db, list_pk, range(recipients + clicks), now)
        db.execute(
            "INSERT INTO deliveries (issue, subscriber_id, list_id, state, queued_at, "
            "updated_at, sent_at) VALUES (?, NULL, NULL, 'sent', ?, ?, ?)",
            [SLUG, now, now, now],
        )
    key = settings.require_secret_key()
    tokens = [signed_token(key, "unsubscribe", sid, list_pk, now) for sid in ids[recipients:]]
    db.close()
    return tokens


def run_clients(port: int, requests: list[tuple[str, str, bytes | None]], clients: int):
    """Send `requests` from `clients` threads with keep-alive; returns (seconds, latencies,
    errors)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    chunks = [requests[i::clients] for i in range(clients)]

    def worker(chunk):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], []
        for method, path, body in chunk:
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    bad.append(f"{method} {path[:30]}: {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                bad.append(f"{method} {path[:30]}: {exc!r}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, errors


def report(label: str, seconds: float, latencies: list[float], errors: list[str]) -> None:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{label:<44} {len(ordered) / seconds:8.0f} req/s   p50 {p50:6.1f} ms   "
        f"p99 {p99:6.1f} ms   errors {len(errors)}"
    )
    for error in errors[:3]:
        print(f"    {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--recipients", type=int, default=5000, help="list size for the send")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    web_port, smtp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_"))}
    env.update(
        NEWSLETTER_DB=str(folder / "subscribers.db"),
        NEWSLETTER_SECRET_KEY=SECRET,
        NEWSLETTER_BASE_URL=f"http://127.0.0.1:{web_port}",
        NEWSLETTER_FROM="Region Örebro län <nyhetsbrev@example.se>",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_SECURITY="none",
    )
    tokens = prepare(folder, env, args.recipients, 2 * args.requests)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(web_port)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    sink = None
    try:
        wait_for_port(web_port, server)
        click = b"List-Unsubscribe=One-Click"
        alone = [("POST", f"/unsubscribe/{t}", click) for t in tokens[: args.requests]]
        during = [("POST", f"/unsubscribe/{t}", click) for t in tokens[args.requests :]]
        archive = [("GET", f"/archive/{SLUG}/", None)] * args.requests
        print(f"newsletter serve (waitress, 8 threads), {args.clients} clients, keep-alive")
        report("one-click unsubscribe POST, alone", *run_clients(web_port, alone, args.clients))
        report("archive GET, alone", *run_clients(web_port, archive, args.clients))

        sink = start_sink(smtp_port)
        code = (
            "import sys; from pathlib import Path; from mailer.config import load_settings; "
            "from mailer.delivery.send import run_send; "
            "s = run_send(load_settings(env_file=None), Path(sys.argv[1])); print(s.line())"
        )
        send = subprocess.Popen(
            [sys.executable, "-c", code, str(folder / "newsletters" / SLUG)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.0)  # let the send get going
        if send.poll() is not None:
            print("the send finished before the measurement could start; raise --recipients")
        report(
            "one-click unsubscribe POST, during a send",
            *run_clients(web_port, during, args.clients),
        )
        report("archive GET, during a send", *run_clients(web_port, archive, args.clients))
        still_running = send.poll() is None
        output, _ = send.communicate(timeout=600)
        overlap = "overlapped the whole measurement" if still_running else "ended during it"
        print(f"send: {output.strip()} ({overlap})")
    finally:
        for process in (server, sink):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
