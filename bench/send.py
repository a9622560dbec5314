"""Send benchmarks: throughput against plain smtplib, peak memory by list size, and the web's
longest wait while a big send starts.

Starts postfix's smtp-sink (or aiosmtpd when smtp-sink is missing) on 127.0.0.1 and builds
the largest example issue, then:

1. Throughput, for 1 and 4 connections, `--repeat` times each, alternating: the command
   `newsletter send ISSUE --yes` as a user runs it (imports, settings, the checks it runs
   before sending, SpamAssassin included, plan, lock, queueing, then the ledger, links,
   personalisation and one commit per 250) in a fresh process, and plain smtplib replaying
   the same message bytes (written by a dry run) in a fresh process. Prints the medians of
   msg/s (whole command, and its sending loop alone) and their ratios to smtplib.
2. Peak memory (RSS) of the whole `newsletter send` command, each in its own process, on
   databases of `--memory-sizes` people (default 10,000 and 100,000).
3. Web latency: the web app (waitress, its own process) answers one-click unsubscribes in a
   loop while a send to `--recipients` people starts (planning, queueing every row) and
   mails its first 200; prints the longest and the 99th-percentile request.

    python bench/send.py [--recipients 100000] [--repeat 3] [--throughput-size 5000]
    python bench/send.py --recipients 1000000 --skip-memory   # the million-person start
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import resource
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "fixtures" / "issues"  # the bundled examples, not the user's
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-0123456789abcdef"  # noqa: S105 - a throwaway database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, what: str) -> None:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{what} did not start on port {port}")


def start_sink(port: int) -> tuple[subprocess.Popen, str]:
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if os.path.exists(sink):
        command = [sink, *(["-u", "nobody"] if os.geteuid() == 0 else []), f"127.0.0.1:{port}"]
        process, name = subprocess.Popen([*command, "256"]), "postfix smtp-sink"
    else:
        command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
        process = subprocess.Popen([*command, "-c", "aiosmtpd.handlers.Sink"])
        name = "aiosmtpd Sink"
    wait_port(port, process, "the SMTP sink")
    return process, name


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


def make_database(path: Path, count: int, list_name: str) -> None:
    """`count` active subscribers, written with plain SQL in batches (setup, not measured)."""
    from mailer.store.db import open_db, transaction, utc_now

    db = open_db(path)
    now = utc_now()
    with transaction(db):
        db.execute("INSERT INTO lists (name, created) VALUES (?, ?)", [list_name, now])
    list_pk = db.execute("SELECT id FROM lists WHERE name = ?", [list_name]).fetchone()[0]
    step = 50_000
    for start in range(0, count, step):
        numbers = range(start, min(count, start + step))
        with transaction(db):
            db.conn.executemany(
                "INSERT INTO subscribers (id, email, name, language, created) "
                "VALUES (?, ?, ?, 'sv', ?)",
                ((n + 1, f"reader{n:07d}@example.org", f"Läsare {n}", now) for n in numbers),
            )
            db.conn.executemany(
                "INSERT INTO consent_log (id, at, action, subscriber_id, list_id, channel, "
                "lawful_basis) VALUES (?, ?, 'add', ?, ?, 'bench', 'consent')",
                ((n + 1, now, n + 1, list_pk) for n in numbers),
            )
            db.conn.executemany(
                "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated, "
                "consent_event_id) VALUES (?, ?, 'active', ?, ?, ?)",
                ((n + 1, list_pk, now, now, n + 1) for n in numbers),
            )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def fresh_copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    return target


# --- the measured parts, each run in its own process ------------------------------------------


STARTED = time.perf_counter()  # a worker process's start: the command's time includes imports


def worker_send(args) -> dict:
    """`newsletter send ISSUE --yes` in this fresh process, settings from the environment as
    a user's .env gives them; the command's own summary line gives the sending loop's time."""
    os.environ.update(
        NEWSLETTER_SECRET_KEY=SECRET,
        NEWSLETTER_FROM="Region Örebro län <nyhetsbrev@example.se>",
        NEWSLETTER_BASE_URL="https://news.example.se",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(args.port),
        SMTP_SECURITY="none",
        SEND_CONNECTIONS=str(args.connections),
    )
    site = Path(args.db).parent  # a site of its own: the checkout's .env is not read
    (site / ".env").touch()
    os.chdir(site)
    # a data folder of its own: no SpamAssassin verdict kept from an earlier `check` (or run)
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="xdg-", dir=site)
    from cli import cli

    command = ["--db", args.db, "send", args.issue, "--yes"]
    if args.limit:
        command += ["--limit", str(args.limit)]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = cli.main(command, standalone_mode=False)
    seconds = time.perf_counter() - STARTED
    text = output.getvalue()
    summary = re.search(r": (\d+) sent, .*; ([\d.]+) s \(", text)
    if code not in (None, 0) or not summary:
        raise SystemExit(f"newsletter send failed:\n{text}")
    # the loop (first claim to last reply) alone, like the smtplib loop below
    return {"messages": int(summary[1]), "seconds": seconds, "loop_seconds": float(summary[2])}


def worker_smtplib(args) -> dict:
    messages = [p.read_bytes() for p in sorted(Path(args.eml).glob("*.eml"))]
    counter = iter(range(args.limit))
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
                "nyhetsbrev@example.se", [f"reader{n:07d}@example.org"], messages[n % len(messages)]
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


def worker_web(args) -> None:
    """Serve the web app with waitress until killed."""
    import waitress

    from mailer.web import create_app

    settings = make_settings(Path(args.db), args.port, base_url=f"http://127.0.0.1:{args.web}")
    app = create_app(settings, newsletters_dir=Path(args.issue).parent)
    waitress.serve(app, host="127.0.0.1", port=args.web, threads=8, _quiet=True)


def measure(kind: str, **options) -> dict:
    command = [sys.executable, __file__, "--worker", kind]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- the three benchmarks ---------------------------------------------------------------------


def bench_throughput(args, port, work, issue, list_name) -> None:
    base = work / "throughput.db"
    make_database(base, args.throughput_size, list_name)
    eml = work / "eml"
    settings = make_settings(fresh_copy(base, work / "dry.db"), port)
    from mailer.delivery.send import run_send

    run_send(settings, issue, dry_run_dir=eml, limit=1000)
    files = list(eml.glob("*.eml"))
    size = sum(p.stat().st_size for p in files) / len(files)
    print(
        f"\n1. Throughput: {args.throughput_size} messages of {issue.name} "
        f"({size / 1024:.0f} KB each as sent), {args.repeat} runs each, interleaved"
    )
    print(
        "   'whole run' is the command `newsletter send --yes` in a fresh process (imports,\n"
        "   checks with SpamAssassin, plan, lock, queueing); 'sending' only its loop, as the\n"
        "   smtplib figure; medians of interleaved runs"
    )
    print(
        f"{'connections':>11} {'send, whole run':>17} {'send, sending':>15} "
        f"{'plain smtplib':>15} {'ratios':>12} {'CPU ms/msg send, smtplib':>26}"
    )
    for connections in (1, 4):
        whole, loop, plain, cpu, plain_cpu = [], [], [], [], []
        for n in range(args.repeat):
            db = fresh_copy(base, work / f"send-{connections}-{n}.db")
            result = measure("send", db=db, issue=issue, port=port, connections=connections)
            whole.append(result["messages"] / result["seconds"])
            loop.append(result["messages"] / result["loop_seconds"])
            cpu.append(result["cpu_seconds"] * 1000 / result["messages"])
            result = measure(
                "smtplib", eml=eml, port=port, connections=connections, limit=args.throughput_size
            )
            plain.append(result["messages"] / result["seconds"])
            plain_cpu.append(result["cpu_seconds"] * 1000 / result["messages"])
            db.unlink()
        best = statistics.median(plain)
        whole_m, loop_m = statistics.median(whole), statistics.median(loop)
        print(
            f"{connections:>11} {whole_m:>11.0f} msg/s {loop_m:>9.0f} msg/s "
            f"{best:>9.0f} msg/s {whole_m / best:>5.2f} {loop_m / best:>5.2f} "
            f"{statistics.median(cpu):>17.2f}, {statistics.median(plain_cpu):.2f}"
        )
        runs = ", ".join(
            f"{a:.0f}/{b:.0f}/{c:.0f}" for a, b, c in zip(whole, loop, plain, strict=True)
        )
        print(f"{'':>11} each run (whole/sending/smtplib): {runs}")


def bench_memory(args, port, work, issue, list_name) -> None:
    print("\n2. Peak memory (RSS) of the whole `newsletter send --yes`, each in its own process")
    for size in args.memory_sizes:
        db = work / f"memory-{size}.db"
        make_database(db, size, list_name)
        result = measure("send", db=db, issue=issue, port=port, connections=1)
        rate = result["messages"] / result["seconds"]
        print(
            f"  {size:>9,} recipients: peak RSS {result['peak_rss_mb']:.0f} MB "
            f"({result['messages']:,} sent at {rate:.0f} msg/s)"
        )
        db.unlink()


def bench_web(args, port, work, issue, list_name) -> None:
    from mailer.audience.tokens import signed_token

    db_path = work / "web.db"
    started = time.perf_counter()
    make_database(db_path, args.recipients, list_name)
    print(
        f"\n3. Web requests while a send to {args.recipients:,} people starts "
        f"(database built in {time.perf_counter() - started:.0f} s)"
    )
    import sqlite3

    conn = sqlite3.connect(db_path)
    list_pk = conn.execute("SELECT id FROM lists WHERE name = ?", [list_name]).fetchone()[0]
    people = conn.execute(
        "SELECT id, created FROM subscribers ORDER BY id DESC LIMIT 5000"
    ).fetchall()
    conn.close()
    links = [signed_token(SECRET, "unsubscribe", sid, list_pk, c) for sid, c in people]
    web_port = free_port()
    command = [sys.executable, __file__, "--worker", "web", "--db", str(db_path)]
    command += ["--port", str(port), "--web", str(web_port), "--issue", str(issue)]
    web = subprocess.Popen(command)
    try:
        wait_port(web_port, web, "the web app")
        latencies: list[float] = []
        done = threading.Event()

        def click() -> None:
            for token in links:
                if done.is_set():
                    return
                request = urllib.request.Request(
                    f"http://127.0.0.1:{web_port}/unsubscribe/{token}",
                    data=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                before = time.perf_counter()
                with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - http://127.0.0.1
                    response.read()
                latencies.append(time.perf_counter() - before)

        clicker = threading.Thread(target=click)
        clicker.start()
        time.sleep(1.0)  # some answers before the send starts, for comparison
        before_send = len(latencies)
        began = time.perf_counter()
        sent = measure("send", db=db_path, issue=issue, port=port, connections=1, limit=200)
        seconds = time.perf_counter() - began
        during = latencies[before_send:]
        done.set()
        clicker.join(timeout=120)
    finally:
        web.terminate()
        web.wait(timeout=30)
    conn = sqlite3.connect(db_path)
    queued = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    conn.close()
    during.sort()
    p99 = during[int(len(during) * 0.99)] if during else float("nan")
    print(
        f"  send start (plan, queue {queued:,} rows) and first {sent['messages']} messages: "
        f"{seconds:.1f} s, peak RSS {sent['peak_rss_mb']:.0f} MB"
    )
    print(
        f"  {len(during)} one-click unsubscribes answered meanwhile: longest "
        f"{max(during) * 1000:.0f} ms, 99th percentile {p99 * 1000:.0f} ms, median "
        f"{during[len(during) // 2] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000, help="list for the web test")
    parser.add_argument("--repeat", type=int, default=3, help="runs per throughput figure")
    parser.add_argument("--throughput-size", type=int, default=5_000)
    parser.add_argument(
        "--memory-sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10_000, 100_000],
    )
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-web", action="store_true")
    parser.add_argument("--worker")
    for name in ("db", "issue", "eml"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--port", type=int)
    parser.add_argument("--web", type=int)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    if args.worker == "web":
        worker_web(args)
        return
    if args.worker:
        result = {"send": worker_send, "smtplib": worker_smtplib}[args.worker](args)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["peak_rss_mb"] = usage.ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # SpamAssassin, for send
        result["cpu_seconds"] = sum(
            (usage.ru_utime, usage.ru_stime, children.ru_utime, children.ru_stime)
        )
        print(json.dumps(result))
        return

    port = free_port()
    sink, sink_name = start_sink(port)
    work = Path(tempfile.mkdtemp(prefix="bench-send-"))
    try:
        from mailer.compose.personalize import load_built

        issue = largest_issue(work, port)
        list_name = load_built(issue).meta["list"]
        print(f"sink: {sink_name} on 127.0.0.1:{port}; issue {issue.name}; {os.cpu_count()} cores")
        if not args.skip_throughput:
            bench_throughput(args, port, work, issue, list_name)
        if not args.skip_memory:
            bench_memory(args, port, work, issue, list_name)
        if not args.skip_web:
            bench_web(args, port, work, issue, list_name)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
