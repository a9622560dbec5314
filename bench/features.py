"""Prints figures for imports with custom fields, .xlsx imports and segment selection.

- import of N rows with three extra columns (custom fields) against the same rows without
  them (the reference), and of the same rows as an .xlsx workbook against the CSV;
- choosing a segment (`län = Örebro and roll in (ordförande, kassör)`) among N subscribers
  against streaming the list's active recipients (what every send does anyway).
Each import runs on a fresh temporary database in this process; times are best of --rounds.

    python bench/features.py [--rows 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from mailer.audience import subscribers  # noqa: E402
from mailer.audience.importer import import_csv  # noqa: E402
from mailer.audience.segments import parse_segment  # noqa: E402
from mailer.config import load_settings  # noqa: E402
from mailer.store.db import open_db  # noqa: E402

SECRET = "bench-secret-key-0123456789"  # noqa: S105 - a throwaway key for a temp database
COUNTIES = ("Örebro", "Västmanland", "Södermanland", "Värmland", "Dalarna")
ROLES = ("ordförande", "kassör", "ledamot", "sekreterare", "medlem")


def rows(count: int, fields: bool) -> list[list[str]]:
    out = []
    for i in range(count):
        row = [f"person{i}@example{i % 300}.se", f"Person {i}", "sv", "2025-03-31"]
        if fields:
            row += [COUNTIES[i % 5], f"Förening {i % 700}", ROLES[i % 5]]
        out.append(row)
    return out


def header(fields: bool) -> list[str]:
    return ["E-post", "Namn", "Språk", "Samtyckesdatum"] + (
        ["Län", "Organisation", "Roll"] if fields else []
    )


def write_csv(path: Path, count: int, fields: bool) -> Path:
    with path.open("w", newline="", encoding="cp1252") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header(fields))
        writer.writerows(rows(count, fields))
    return path


def write_xlsx(path: Path, count: int) -> Path:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Medlemmar")
    sheet.append(header(True))
    for row in rows(count, True):
        sheet.append(row)
    book.save(path)
    return path


def timed_import(folder: Path, source: Path, rounds: int) -> tuple[float, Path]:
    best, db_path = float("inf"), folder / "x.db"
    for n in range(rounds):
        db_path = folder / f"{source.stem}-{n}.db"
        settings = load_settings(
            {"db_path": db_path, "secret_key": SECRET}, env_file=None, environ={}
        )
        db = open_db(db_path)
        started = time.perf_counter()
        import_csv(db, settings, source, list_name="nyhetsbrev")
        best = min(best, time.perf_counter() - started)
        db.close()
    return best, db_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = write_csv(folder / "plain.csv", args.rows, fields=False)
        with_fields = write_csv(folder / "fields.csv", args.rows, fields=True)
        workbook = write_xlsx(folder / "fields.xlsx", args.rows)
        base, _ = timed_import(folder, plain, args.rounds)
        extra, db_path = timed_import(folder, with_fields, args.rounds)
        xlsx, _ = timed_import(folder, workbook, args.rounds)
        print(f"import {args.rows} rows, CSV without fields (reference): {base:.2f} s")
        print(
            f"import {args.rows} rows, CSV with 3 custom fields:      {extra:.2f} s "
            f"({extra / base:.2f}x)"
        )
        print(
            f"import {args.rows} rows, .xlsx with 3 custom fields:    {xlsx:.2f} s "
            f"({xlsx / extra:.2f}x the CSV with fields)"
        )
        db = open_db(db_path)
        segment = parse_segment("län = Örebro and roll in (ordförande, kassör)")
        stream_best = select_best = float("inf")
        for _ in range(args.rounds):
            started = time.perf_counter()
            everyone = sum(1 for _ in subscribers.active_recipients(db, "nyhetsbrev"))
            stream_best = min(stream_best, time.perf_counter() - started)
            started = time.perf_counter()
            ids = segment.matching_ids(db)
            select_best = min(select_best, time.perf_counter() - started)
        print(f"stream {everyone} active recipients (reference):      {stream_best * 1000:.0f} ms")
        print(
            f"segment '{segment.text}': {len(ids)} match in {select_best * 1000:.0f} ms "
            f"({select_best / stream_best:.2f}x)"
        )
        db.close()


if __name__ == "__main__":
    main()
