"""Prints subscriber figures: CSV import time and peak memory at 10,000 and 100,000 rows, and
`show` (access export), recipient streaming and erasure latency on the 100,000-row database.

Targets (issue 3): 100,000 rows imported in under 10 s; peak memory that does not grow with the
file (compare the 10k and 100k peaks). Each measurement runs in a fresh process, so the
resident-set peak (ru_maxrss) belongs to that import alone.

    python bench/subscribers.py            # both sizes
    python bench/subscribers.py --rows 100000 --keep /tmp/bench.db
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

SECRET = "bench-secret-key-0123456789"  # noqa: S105 - a throwaway key for a temp database


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["E-post", "Namn", "Språk", "consent_date"])
        for i in range(rows):
            writer.writerow(
                [
                    f"person{i}@example{i % 300}.se",
                    f"Person Nummer {i}",
                    ("sv", "da", "en")[i % 3],
                    "2025-03-31",
                ]
            )


def measure_import(rows: int, traced: bool, keep: Path | None) -> dict:
    """One import in this process; returns time, rss peak and (if traced) Python heap peak."""
    from mailer.audience.importer import import_csv
    from mailer.config import load_settings
    from mailer.store.db import open_db

    folder = Path(tempfile.mkdtemp(prefix="bench-subscribers-"))
    csv_path = folder / f"members-{rows}.csv"
    write_file(csv_path, rows)
    db_path = keep or folder / "subscribers.db"
    settings = load_settings({"db_path": db_path, "secret_key": SECRET}, env_file=None, environ={})
    db = open_db(db_path)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    report = import_csv(db, settings, csv_path)
    seconds = time.perf_counter() - started
    heap_peak = tracemalloc.get_traced_memory()[1] if traced else None
    return {
        "rows": rows,
        "seconds": seconds,
        "file_mb": csv_path.stat().st_size / 1e6,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024,
        "heap_peak_mb": None if heap_peak is None else heap_peak / 1e6,
        "added": report.added,
        "db_path": str(db_path),
    }


def measure_queries(db_path: Path) -> dict:
    """Latency of `show` (the access export), streaming recipients, and one erasure."""
    from mailer.audience.consent import erase_subscriber, export_subject
    from mailer.audience.subscribers import active_recipients, require_subscriber
    from mailer.config import DEFAULT_LIST, load_settings
    from mailer.store.db import open_db

    settings = load_settings({"db_path": db_path, "secret_key": SECRET}, env_file=None, environ={})
    db = open_db(db_path)
    timings = []
    for i in range(0, 100_000, 2_000):
        started = time.perf_counter()
        document = export_subject(
            db, require_subscriber(db, f"person{i}@example{i % 300}.se")["id"]
        )
        timings.append(time.perf_counter() - started)
        assert document["consent_history"]
    started = time.perf_counter()
    count = sum(1 for _ in active_recipients(db, DEFAULT_LIST))
    stream = time.perf_counter() - started
    started = time.perf_counter()
    erase_subscriber(db, settings, "person77@example77.se")
    erase = time.perf_counter() - started
    return {
        "show_median_ms": statistics.median(timings) * 1000,
        "show_max_ms": max(timings) * 1000,
        "recipients": count,
        "recipients_seconds": stream,
        "erase_seconds": erase,
        "db_mb": db_path.stat().st_size / 1e6,
    }


def child(args: list[str]) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int)
    parser.add_argument("--traced", action="store_true")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--queries", type=Path)
    args = parser.parse_args()
    if args.queries:
        print(json.dumps(measure_queries(args.queries)))
        return
    if args.rows:
        print(json.dumps(measure_import(args.rows, args.traced, args.keep)))
        return
    print("CSV import (semicolon-separated UTF-8, one transaction):")
    for rows in (10_000, 100_000):
        timed = child(["--rows", str(rows)])
        traced = child(["--rows", str(rows), "--traced"])
        print(
            f"  {rows:>7,} rows ({timed['file_mb']:.1f} MB): {timed['seconds']:.2f} s "
            f"({rows / timed['seconds']:,.0f} rows/s); peak RSS {timed['rss_peak_mb']:.0f} MB "
            f"(+{timed['rss_growth_mb']:.0f} MB during import); Python heap peak "
            f"{traced['heap_peak_mb']:.1f} MB"
        )
        if rows == 100_000:
            figures = child(["--queries", timed["db_path"]])
    print(f"At 100,000 subscribers (database {figures['db_mb']:.0f} MB):")
    print(
        f"  show / access export: median {figures['show_median_ms']:.2f} ms, "
        f"max {figures['show_max_ms']:.2f} ms (50 people)"
    )
    print(
        f"  active_recipients: {figures['recipients']:,} streamed in "
        f"{figures['recipients_seconds']:.2f} s"
    )
    print(f"  erase (incl. WAL checkpoint and file scan): {figures['erase_seconds']:.2f} s")
    print("Targets: import of 100,000 rows < 10 s; heap peak the same at 10k and 100k.")


if __name__ == "__main__":
    main()
