"""Send throughput: `newsletter send` against plain smtplib, into a local SMTP sink.

Builds the largest example issue, creates 10,000 subscribers, starts postfix's smtp-sink (or
aiosmtpd when smtp-sink is missing) on 127.0.0.1, then for 1 and 4 connections runs:
- the real send (ledger, tokens, personalisation, commits), in a fresh subprocess;
- plain smtplib replaying the same pre-rendered messages (written by a dry run) over the same
  number of connections, in a fresh subprocess;
and prints messages per second and each subprocess's peak memory (RSS), with the peak for a
2,000-recipient send beside it to show memory does not grow with the list.

    python bench/send.py [--recipients 10000] [--repeat 3] [--dkim]

The send figure includes everything `newsletter send --yes` does after start-up: checking the
build, counting and queueing the recipients, then sending.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import smtplib
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if os.path.exists(sink):
        command = [sink, *(["-u", "nobody"] if os.geteuid() == 0 else []), f"127.0.0.1:{port}"]
        process = subprocess.Popen([*command, "256"])
    else:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{port}",
                "-c",
                "aiosmtpd.handlers.Sink",
            ]
        )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the SMTP sink did not start")


def make_settings(db_path: Path, port: int, **extra):
    from mailer.config import load_settings

    values = {
        "db_path": db_path,
        "secret_key": SECRET,
        "from_address": "Region Örebro län <nyhetsbrev@example.se>",
        "base_url": "https://news.example.se",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        **extra,
    }
    return load_settings(values, env_file=None, environ={})


def largest_issue(work: Path, port: int) -> Path:
    """Copy the examples, build them, and return the one with the biggest email.html."""
    from mailer.compose.build import build_issue

    target = work / "newsletters"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("build"))
    settings = make_settings(work / "scratch.db", port)
    sizes = {}
    for issue in sorted(p for p in target.iterdir() if (p / "issue.md").is_file()):
        result = build_issue(issue, settings)
        sizes[issue] = result.html_path.stat().st_size
    return max(sizes, key=sizes.get)


def make_database(path: Path, port: int, count: int, list_name: str) -> None:
    from mailer.audience.roster import add_subscriber
    from mailer.store.db import open_db, transaction

    settings = make_settings(path, port)
    db = open_db(path)
    with transaction(db):
        for n in range(count):
            add_subscriber(
                db, settings, f"reader{n:06d}@example.org", name=f"Läsare {n}", list_name=list_name
            )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def fresh_copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    return target


# --- the measured parts, each run in its own process ------------------------------------------


def worker_send(args) -> dict:
    from mailer.delivery.send import run_send

    extra = {}
    if args.dkim_key:
        extra = {
            "dkim_domain": "example.se",
            "dkim_selector": "bench",
            "dkim_private_key": args.dkim_key,
        }
    settings = make_settings(Path(args.db), args.port, **extra)
    started = time.perf_counter()
    summary = run_send(settings, Path(args.issue), connections=args.connections, limit=args.limit)
    seconds = time.perf_counter() - started
    return {"messages": summary.sent, "seconds": seconds}


def worker_smtplib(args) -> dict:
    messages = [p.read_bytes() for p in sorted(Path(args.eml).glob("*.eml"))]
    total = args.limit
    counter = iter(range(total))
    lock = threading.Lock()
    sent = [0]

    def run():
        conn = smtplib.SMTP("127.0.0.1", args.port)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            conn.sendmail(
                "nyhetsbrev@example.se", [f"reader{n:06d}@example.org"], messages[n % len(messages)]
            )
            with lock:
                sent[0] += 1
        conn.quit()

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"messages": sent[0], "seconds": time.perf_counter() - started}


def measure(kind: str, **options) -> dict:
    command = [sys.executable, __file__, "--worker", kind]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--dkim", action="store_true", help="also time DKIM signing (slow)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is shown)")
    parser.add_argument("--worker")
    for name in ("db", "issue", "eml", "dkim-key"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--port", type=int)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    if args.worker:
        result = {"send": worker_send, "smtplib": worker_smtplib}[args.worker](args)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    port = free_port()
    sink = start_sink(port)
    work = Path(tempfile.mkdtemp(prefix="bench-send-"))
    try:
        run_bench(args, port, work)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def run_bench(args, port: int, work: Path) -> None:
    from mailer.compose.personalize import load_built
    from mailer.delivery.send import run_send

    issue = largest_issue(work, port)
    meta = load_built(issue).meta
    base_db = work / "base.db"
    make_database(base_db, port, args.recipients, meta["list"])
    eml = work / "eml"
    settings = make_settings(fresh_copy(base_db, work / "dry.db"), port)
    run_send(settings, issue, dry_run_dir=eml, limit=1000)
    size = sum(p.stat().st_size for p in eml.glob("*.eml")) / len(list(eml.glob("*.eml")))
    print(
        f"issue {issue.name}: email.html {meta['sizes']['email_html']} bytes, "
        f"{size / 1024:.0f} KB per message as sent; {args.recipients} recipients"
    )
    print(
        f"{'connections':>11} {'newsletter send':>17} {'plain smtplib':>15} {'ratio':>6} "
        f"{'peak RSS send':>14} {'peak RSS smtplib':>17}"
    )
    for connections in (1, 4):
        db = fresh_copy(base_db, work / f"send-{connections}.db")
        ours = measure("send", db=db, issue=issue, port=port, connections=connections)
        plain = measure(
            "smtplib", eml=eml, port=port, connections=connections, limit=args.recipients
        )
        ours_rate = ours["messages"] / ours["seconds"]
        plain_rate = plain["messages"] / plain["seconds"]
        print(
            f"{connections:>11} {ours_rate:>11.0f} msg/s {plain_rate:>9.0f} msg/s "
            f"{ours_rate / plain_rate:>6.0%} {ours['peak_rss_mb']:>11.0f} MB "
            f"{plain['peak_rss_mb']:>14.0f} MB"
        )
    small = measure(
        "send",
        db=fresh_copy(base_db, work / "small.db"),
        issue=issue,
        port=port,
        connections=1,
        limit=max(1, args.recipients // 5),
    )
    print(
        f"memory: peak RSS {small['peak_rss_mb']:.0f} MB for {small['messages']} messages "
        f"vs {ours['peak_rss_mb']:.0f} MB for {ours['messages']} (flat = does not grow)"
    )
    if args.dkim:
        key = work / "dkim.pem"
        subprocess.run(
            ["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True
        )
        signed = measure(
            "send",
            db=fresh_copy(base_db, work / "dkim.db"),
            issue=issue,
            port=port,
            connections=1,
            limit=1000,
            dkim_key=key,
        )
        print(f"with DKIM (dkimpy, RSA 2048): {signed['messages'] / signed['seconds']:.0f} msg/s")


if __name__ == "__main__":
    main()
