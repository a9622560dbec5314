"""Bounce reading speed: classifying reports alone, then `bounces import` of an mbox of them
(classify, match, decide, record: one transaction per report), then the same mbox again
(every report already recorded).

A temporary database gets N subscribers with a `sent` ledger row each, and an mbox gets one
report per subscriber, a mix of the samples in tests/bounce_samples (RFC 3464 hard and soft,
ARF, Exim, qmail, Exchange, auto-replies, plain replies). Prints reports per second for each
step and the import's cost as a multiple of classifying alone (the reference).

    python bench/bounces.py [--reports 2000]
"""

from __future__ import annotations

import argparse
import mailbox
import sys
import tempfile
import time
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailer.audience.roster import add_subscriber  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.delivery import ledger  # noqa: E402
from mailer.delivery.bounces.classify import classify  # noqa: E402
from mailer.delivery.bounces.run import import_bounces  # noqa: E402
from mailer.delivery.bounces.verp import envelope_sender  # noqa: E402
from mailer.store.db import open_db, transaction, utc_now  # noqa: E402

SAMPLES = ROOT / "tests" / "bounce_samples"
CORPUS = ROOT / "tests" / "bounce_corpus"  # multi-recipient, cut-short, free-text reports
MIX = [
    "dsn-hard.eml",
    "dsn-soft.eml",
    "arf-abuse.eml",
    "exim.eml",
    "qmail.eml",
    "exchange.eml",
    "autoreply.eml",
    "not-a-bounce.eml",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=2000)
    count = parser.parse_args().reports
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {
                "db_path": Path(tmp) / "bench.db",
                "secret_key": "bench-secret-key-0123456789abcdef",
                "from_address": "Nyhetsbrev <nyhetsbrev@example.se>",
                "bounce_address": "bounces@example.se",
            },
            env_file=None,
            environ={},
        )
        db = open_db(settings.db_path)
        with transaction(db):
            for n in range(count):
                add_subscriber(db, settings, f"reader{n:06d}@example.org", list_name="nyhetsbrev")
        recipients = db.execute(
            "SELECT sub.subscriber_id, sub.list_id, sub.consent_event_id FROM subscriptions sub"
        ).fetchall()
        ledger.queue_recipients(db, "2026-1", recipients)
        rows = db.execute("SELECT id, subscriber_id FROM deliveries ORDER BY id").fetchall()
        with transaction(db):
            for row_id, _ in rows:
                ledger.mark_sent(db, row_id, reply="250 ok", now=utc_now())
        emails = dict(db.execute("SELECT id, email FROM subscribers").fetchall())
        db.close()
        templates = {name: Template((SAMPLES / name).read_text()) for name in MIX}
        reports = []
        for n, (row_id, subscriber_id) in enumerate(rows):
            text = templates[MIX[n % len(MIX)]].substitute(
                recipient=emails[subscriber_id],
                message_id=f"<2026-1.{n}@example.se>",
                return_path=envelope_sender(settings, row_id),
            )
            reports.append(text.encode())
        box = mailbox.mbox(Path(tmp) / "bounces.mbox")
        for raw in reports:
            box.add(raw)
        box.close()

        start = time.perf_counter()
        for raw in reports:
            classify(raw)
        classify_s = time.perf_counter() - start
        corpus = [
            Template(path.read_text())
            .substitute(
                r1="anna@example.org",
                r2="bo@example.com",
                r3="cai@example.net",
                R1_UPPER="ANNA@EXAMPLE.ORG",
                message_id="<2026-1.0@example.se>",
                return_path="bounces@example.se",
            )
            .encode()
            for path in sorted(CORPUS.glob("*.eml"))
        ]
        rounds = max(1, count // len(corpus))
        start = time.perf_counter()
        readers: dict[str, int] = {}
        for _ in range(rounds):
            for raw in corpus:
                reader = classify(raw).reader or "none"
                readers[reader] = readers.get(reader, 0) + 1
        corpus_s = time.perf_counter() - start
        start = time.perf_counter()
        first = import_bounces(settings, [Path(tmp) / "bounces.mbox"])
        import_s = time.perf_counter() - start
        start = time.perf_counter()
        second = import_bounces(settings, [Path(tmp) / "bounces.mbox"])
        again_s = time.perf_counter() - start

    print(f"reports: {count} ({len(MIX)} kinds)")
    print(f"classify only (reference): {count / classify_s:8.0f} reports/s")
    per_reader = ", ".join(f"{n // rounds} {name}" for name, n in sorted(readers.items()))
    print(
        f"classify the corpus:       {rounds * len(corpus) / corpus_s:8.0f} reports/s  "
        f"({len(corpus)} kinds; decided by {per_reader})"
    )
    print(
        f"bounces import:            {count / import_s:8.0f} reports/s  "
        f"({import_s / classify_s:.1f}x the reference)"
    )
    print(
        f"same mbox again:           {count / again_s:8.0f} reports/s  "
        f"({again_s / classify_s:.1f}x the reference)"
    )
    print(f"first run:  {first.line()}")
    print(f"second run: {second.line()}")


if __name__ == "__main__":
    main()
