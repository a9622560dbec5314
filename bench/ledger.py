"""Prints what the send ledger costs on disk: bytes per recipient per issue while the
per-recipient rows are kept, and after `ledger prune` folds them into per-issue counts.

The ledger rows are written by the tool's own code (`ledger.queue_list`, then each row marked
`sent` with a Message-ID and a server reply as a real send leaves them); 1 % of the copies get a
hard-bounce report. Sizes are the database file after VACUUM, so free pages do not count.

    python bench/ledger.py                       # 20,000 recipients, 6 issues
    python bench/ledger.py --recipients 100000 --issues 12
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailer.config import load_settings
from mailer.delivery import ledger
from mailer.delivery.message import delivery_message_id
from mailer.delivery.retention import fold_old_deliveries
from mailer.store.db import open_db, transaction, utc_now

SECRET = "bench-secret-key-0123456789"  # noqa: S105 - a throwaway key for a temp database
LONG_AGO = "2025-01-10T08:00:00.000000Z"


def file_size(path: Path) -> int:
    """The database's size after VACUUM and a checkpoint (no free pages, no WAL)."""
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return pages * page_size


def add_people(path: Path, settings, recipients: int) -> int:
    from mailer.audience.importer import import_csv

    csv_path = path.with_suffix(".csv")
    lines = ["email,name,language"]
    lines += [f"person{i}@example{i % 300}.se,Person Nummer {i},sv" for i in range(recipients)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = open_db(path)
    import_csv(db, settings, csv_path, list_name="nyhetsbrev", source="bench")
    list_id = db.execute("SELECT id FROM lists WHERE name = 'nyhetsbrev'").fetchone()[0]
    db.close()
    return list_id


def send_issues(path: Path, list_id: int, issues: int) -> None:
    """Ledger rows as a finished send leaves them, and 1 % hard-bounce reports."""
    db = open_db(path)
    for n in range(issues):
        slug = f"2025-{n + 1}"
        ledger.queue_list(db, slug, list_id, pause=0)
        rows = db.execute(
            "SELECT id, subscriber_id FROM deliveries WHERE issue = ?", [slug]
        ).fetchall()
        with transaction(db):
            for row_id, subscriber_id in rows:
                message_id = delivery_message_id(SECRET, slug, subscriber_id, "example.se")
                db.execute(
                    "UPDATE deliveries SET state = 'sent', attempts = 1, message_id = ?, "
                    "last_reply = ?, sent_at = ?, updated_at = ?, claimed_by = 1 WHERE id = ?",
                    [
                        message_id,
                        f"250 2.0.0 Ok: queued as 4Q{row_id:08X}",
                        LONG_AGO,
                        LONG_AGO,
                        row_id,
                    ],
                )
            for row_id, subscriber_id in rows[::100]:
                db.execute(
                    "INSERT INTO bounce_events (delivery_id, subscriber_id, list_id, issue, kind, "
                    "status, diagnostic, reported_at, recorded_at, matched_by, decision, source, "
                    "report_hash) VALUES (?, ?, ?, ?, 'hard', '5.1.1', ?, ?, ?, 'token', "
                    "'bounced', 'imap', ?)",
                    [
                        row_id,
                        subscriber_id,
                        list_id,
                        slug,
                        "smtp; 550 5.1.1 <person@example.se>: Recipient address rejected",
                        LONG_AGO,
                        LONG_AGO,
                        f"{row_id:064x}",
                    ],
                )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--issues", type=int, default=6)
    args = parser.parse_args()
    settings = load_settings({"secret_key": SECRET}, env_file=None, environ={})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        list_id = add_people(path, settings, args.recipients)
        base = file_size(path)
        started = time.perf_counter()
        send_issues(path, list_id, args.issues)
        kept = file_size(path)
        db = open_db(path)
        fold_started = time.perf_counter()
        summary = fold_old_deliveries(db, 180, now=utc_now())
        fold_seconds = time.perf_counter() - fold_started
        db.close()
        folded = file_size(path)
        copies = args.recipients * args.issues
        print(f"{args.recipients:,} recipients x {args.issues} issues = {copies:,} copies")
        print(f"database without a ledger: {base / 1e6:.1f} MB")
        print(
            f"ledger kept:   {(kept - base) / 1e6:8.2f} MB = "
            f"{(kept - base) / copies:6.1f} bytes per recipient per issue "
            f"(written in {fold_started - started:.1f} s)"
        )
        print(
            f"ledger folded: {(folded - base) / 1e6:8.3f} MB = "
            f"{(folded - base) / copies:6.2f} bytes per recipient per issue "
            f"({summary.rows:,} rows, {summary.bounce_reports:,} bounce reports folded in "
            f"{fold_seconds:.1f} s)"
        )
        year = 1_000_000 * 12
        print(
            f"at 1,000,000 people and 12 issues a year: {(kept - base) / copies * year / 1e9:.2f} "
            f"GB a year kept for ever, {(folded - base) / copies * year / 1e6:.3f} MB after folding"
        )


if __name__ == "__main__":
    main()
