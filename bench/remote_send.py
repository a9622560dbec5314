"""Sending from the laptop, measured on loopback: upload and queue of the larger bundled issue
(2018-2 with its images), and one-click unsubscribe latency while a laptop-driven send runs.

Starts `newsletter serve` (waitress, its send thread, an SMTP sink) on 127.0.0.1 with a fresh
database, makes an API token, and drives it with the laptop's own code (`ApiClient`,
`compose.bundle.pack`, `remote.sending`):
- upload + plan + queue: pack the build, POST it (a different bundle each run, so the server
  really checks and swaps it in), ask for the plan, queue the send to a list of its own;
  target (issue 19) under 2 s;
- one-click unsubscribe POSTs, p99 latency, idle and during a queued send of --recipients,
  interleaved (idle, busy, idle, busy, ...); medians of the rounds and their ratio.

    python bench/remote_send.py [--runs 7] [--rounds 3] [--recipients 3000] [--requests 400]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from web import (  # noqa: E402
    SECRET,
    SLUG,
    add_readers,
    free_port,
    run_clients,
    start_sink,
    wait_for_port,
)

EXAMPLES = ROOT / "tests" / "fixtures" / "issues"
BASE_URL = "https://news.example.org"  # the gate wants a public base URL; requests go to 127.0.0.1


def populate(db, list_name: str, count: int, start: int) -> list[int]:
    """`count` active readers on `list_name` (fast, raw rows as bench/web.py makes them)."""
    from mailer.audience.subscribers import ensure_list
    from mailer.store.db import transaction, utc_now

    list_pk, now = ensure_list(db, list_name), utc_now()
    with transaction(db):
        return add_readers(db, list_pk, range(start, start + count), now, digits=7)


def laptop_builds(folder: Path, settings) -> list[Path]:
    """Two builds of 2018-2 that differ by one comment, so every upload is new to the server."""
    from mailer.compose.build import build_issue

    issues = []
    for variant in ("a", "b"):
        root = folder / "laptop" / variant / "newsletters"
        shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("build", ".build-*"))
        build_issue(root / SLUG, settings)
        web = root / SLUG / "build" / "web.html"
        web.write_text(web.read_text(encoding="utf-8") + f"<!-- {variant} -->\n", "utf-8")
        issues.append(root / SLUG)
    return issues


def wait_state(client, list_name: str, wanted: tuple[str, ...], timeout: float = 600.0) -> dict:
    from mailer.remote.sending import progress

    deadline = time.monotonic() + timeout
    while True:
        state = progress(client, SLUG, list_name)
        if state["state"] in wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="upload-and-queue runs")
    parser.add_argument("--rounds", type=int, default=3, help="idle/busy latency rounds")
    parser.add_argument("--recipients", type=int, default=3000, help="list size of a busy send")
    parser.add_argument("--requests", type=int, default=400, help="one-click POSTs per batch")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    from mailer.audience.tokens import issue_token
    from mailer.compose import bundle
    from mailer.config import load_settings
    from mailer.remote import sending
    from mailer.remote.client import ApiClient
    from mailer.remote.tokens import create_token
    from mailer.store.db import open_db

    folder = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    (folder / "newsletters").mkdir()
    web_port, smtp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_"))}
    env.update(
        NEWSLETTER_DB=str(folder / "subscribers.db"),
        NEWSLETTER_SECRET_KEY=SECRET,
        NEWSLETTER_BASE_URL=BASE_URL,
        NEWSLETTER_FROM="Region Örebro län <nyhetsbrev@example.se>",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_SECURITY="none",
    )
    settings = load_settings({}, env_file=None, environ=env)
    db = open_db(settings.db_path)
    token = create_token(db, "bench-laptop")
    next_id = 0
    for run in range(args.runs):
        populate(db, f"small{run}", 50, next_id)
        next_id += 50
    for round_ in range(args.rounds):
        populate(db, f"big{round_}", args.recipients, next_id)
        next_id += args.recipients
    clickers = populate(db, "clicks", 2 * args.rounds * args.requests, next_id)
    clicks_pk = db.execute("SELECT id FROM lists WHERE name = 'clicks'").fetchone()[0]
    tokens = [issue_token(db, "unsubscribe", sid, clicks_pk) for sid in clickers]
    db.close()
    issues = laptop_builds(folder, settings)
    sink = start_sink(smtp_port)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(web_port)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(web_port, server)
        client = ApiClient(f"http://127.0.0.1:{web_port}", token)
        client.check_version()
        timings, size = [], 0
        for run in range(args.runs):
            started = time.perf_counter()
            packed = bundle.pack(issues[run % 2])
            stored = sending.upload_bundle(client, packed.data, packed.sha256)
            plan = sending.request_send(
                client, SLUG, packed.sha256, list=f"small{run}", dry_run=True
            )
            queued = sending.request_send(client, SLUG, packed.sha256, list=f"small{run}")
            timings.append(time.perf_counter() - started)
            size = len(packed.data)
            assert stored["stored"] and plan["recipients"] == 50 and queued["job"], queued
            wait_state(client, f"small{run}", ("done", "stopped"))
        print(
            f"upload + plan + queue of {SLUG} ({size / 2**20:.1f} MB bundle), {args.runs} runs: "
            f"median {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms "
            "(target < 2000 ms)"
        )

        click = b"List-Unsubscribe=One-Click"
        idle, busy, overlapped = [], [], 0
        packed = bundle.pack(issues[0])
        sending.upload_bundle(client, packed.data, packed.sha256)
        for round_ in range(args.rounds):
            batch = tokens[2 * round_ * args.requests : (2 * round_ + 2) * args.requests]
            posts = [("POST", f"/unsubscribe/{t}", click) for t in batch]
            _s, latencies, errors = run_clients(web_port, posts[: args.requests], args.clients)
            idle.append(p99(latencies))
            sending.request_send(client, SLUG, packed.sha256, list=f"big{round_}")
            wait_state(client, f"big{round_}", ("sending", "done", "stopped"))
            _s, latencies, more = run_clients(web_port, posts[args.requests :], args.clients)
            busy.append(p99(latencies))
            after = wait_state(client, f"big{round_}", ("sending", "done", "stopped"), 0)
            overlapped += after["state"] == "sending"
            errors += more
            if errors:
                print(f"    errors: {errors[:3]}")
            wait_state(client, f"big{round_}", ("done", "stopped"))
        idle_p99, busy_p99 = statistics.median(idle), statistics.median(busy)
        print(
            f"one-click unsubscribe p99, {args.rounds} interleaved rounds of {args.requests} "
            f"POSTs: idle {idle_p99:.1f} ms, during a laptop-driven send of {args.recipients} "
            f"{busy_p99:.1f} ms (x{busy_p99 / idle_p99:.2f}); the send still ran at the end of "
            f"{overlapped} of {args.rounds} busy batches"
        )
    finally:
        for process in (server, sink):
            process.terminate()
            process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
