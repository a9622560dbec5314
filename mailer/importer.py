"""CSV import of subscribers: the files people actually have, validated row by row, one transaction.

Reads UTF-8 (with or without BOM), UTF-16 with BOM, or cp1252/Latin-1 from Excel; comma,
semicolon or tab delimited; header names in any case and in Swedish, Danish or English. Rows
are streamed and written in batches inside ONE `BEGIN IMMEDIATE` transaction, so memory does
not grow with the file and either every valid row is in or none is. Any invalid row rejects the
whole file (all problems are reported with line numbers); duplicates, erased addresses and
people who unsubscribed are skipped and reported, never (re)activated.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from . import consent
from .config import Settings
from .db import transaction, utc_now
from .errors import SubscriberError
from .subscribers import (
    DEFAULT_LIST,
    clean_language,
    clean_list_name,
    clean_name,
    ensure_list,
    normalise_email,
)

BATCH_SIZE = 500
MAX_PROBLEMS = 1000
HEADER_NAMES = {
    "email": {
        "email",
        "e-mail",
        "e-post",
        "epost",
        "mail",
        "e-mail address",
        "email address",
        "e-postadress",
        "e-mailadresse",
        "emailadresse",
        "address",
        "adress",
    },
    "name": {"name", "namn", "navn", "full name", "fullständigt namn"},
    "language": {"language", "språk", "sprog", "lang"},
    "lists": {"lists", "list", "listor", "lista", "lister", "liste"},
    "consent_date": {
        "consent_date",
        "consent date",
        "samtycke",
        "samtyckesdatum",
        "samtykke",
        "samtykkedato",
        "consented",
    },
    "source": {"source", "källa", "kilde"},
}
LIST_SEPARATORS = re.compile(r"[|,;\s]+")


class ImportRejected(SubscriberError):
    """The file has invalid rows; nothing was written. `report` lists every problem."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(report.describe(rejected=True))


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a rejected file, would have done)."""

    path: Path
    encoding: str = ""
    delimiter: str = ","
    rows: int = 0
    added: int = 0  # new people
    subscribed: int = 0  # new subscriptions, new people included
    already: int = 0
    not_reactivated: int = 0
    suppressed: int = 0
    duplicates: int = 0
    invalid: int = 0
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, line: int, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{self.path.name}, line {line}: {text}")

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        if self.invalid:
            verb = "rejected"
        return (
            f"{self.path.name}: {verb} {self.rows} rows ({self.encoding}, '{self.delimiter}'): "
            f"{self.added} new people, {self.subscribed} new subscriptions, {self.already} already "
            f"subscribed, {self.not_reactivated} not reactivated, {self.suppressed} erased, "
            f"{self.duplicates} duplicates, {self.invalid} invalid"
        )

    def describe(self, rejected: bool = False) -> str:
        lines = list(self.problems)
        if self.problem_count > len(self.problems):
            lines.append(f"... and {self.problem_count - len(self.problems)} more problems")
        if rejected:
            lines.append(
                f"{self.invalid} invalid rows: nothing was imported; fix them and run again"
            )
        return "\n".join([*lines, self.summary()])


def detect_encoding(path: Path) -> str:
    """utf-8-sig / utf-16 by BOM, else UTF-8 if the whole file decodes, else cp1252, else Latin-1.
    Streams the file in chunks, so a stray byte on row 90,000 is found without loading it."""
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def estimate_rows(path: Path) -> int:
    """Line count minus the header, for a progress bar (quoted line breaks make it approximate)."""
    lines = 0
    if not Path(path).is_file():
        return 1  # import_csv says what is wrong
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(lines, 1)


def _columns(header: list[str], path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = raw.strip().strip("\ufeff").lower().replace("_", " ")
        for column, names in HEADER_NAMES.items():
            if key in names or key.replace(" ", "_") in names:
                if column in found:
                    raise SubscriberError(f"{path}, line 1: two columns mean {column!r}")
                found[column] = index
    if "email" not in found:
        raise SubscriberError(
            f"{path}, line 1: no e-mail column (looked for email, e-post, e-mail); the header "
            f"has: {', '.join(h.strip() for h in header) or 'nothing'}"
        )
    return found


def _read_rows(path: Path, report: ImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for each non-blank data row, streamed."""
    with path.open(encoding=report.encoding, newline="") as handle:
        first = handle.readline()
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        report.delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        reader = csv.reader(_chain(first, handle), delimiter=report.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise SubscriberError(f"{path}: the file is empty") from None
        columns = _columns(header, path)
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            yield (
                reader.line_num,
                {name: (record[i] if i < len(record) else "") for name, i in columns.items()},
            )


def _chain(first: str, rest) -> Iterator[str]:
    yield first
    yield from rest


def _consent_date(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise SubscriberError(f"consent_date {text!r} is not a date like 2025-03-31") from None
    if moment.date() > dt.date.today():
        raise SubscriberError(f"consent_date {text!r} is in the future")
    return text


def import_csv(
    db: Database,
    settings: Settings,
    path: str | Path,
    *,
    list_name: str = DEFAULT_LIST,
    source: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV file; raises ImportRejected (nothing written) if any row is invalid.

    `list_name` is created if missing and used for rows without a lists column; lists named in
    the file must exist already (a typo should not create a list). A dry run does everything
    inside the transaction and then rolls it back, so its figures are exact."""
    path = Path(path)
    if not path.is_file():
        raise SubscriberError(f"{path}: no such file")
    report = ImportReport(path=path, dry_run=dry_run, encoding=detect_encoding(path))
    default_list = clean_list_name(list_name)
    default_source = clean_name(source) or None
    writer = _BatchWriter(db, settings, report)
    try:
        with transaction(db):
            known = dict(db.execute("SELECT name, id FROM lists").fetchall())
            known[default_list] = ensure_list(db, default_list)
            writer.start()
            for line, cells in _read_rows(path, report):
                report.rows += 1
                if progress:
                    progress(1)
                try:
                    row = _validate(cells, known, default_list, default_source)
                except SubscriberError as exc:
                    report.invalid += 1
                    report.problem(line, str(exc))
                    continue
                writer.add(line, row)
            writer.flush()
            writer.finish()
            if report.invalid:
                raise ImportRejected(report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _validate(cells: dict[str, str], known: dict, default_list: str, default_source) -> dict:
    email = normalise_email(cells["email"])
    names = [n for n in LIST_SEPARATORS.split(cells.get("lists", "").strip().lower()) if n]
    list_ids = []
    for name in names or [default_list]:
        name = clean_list_name(name)
        if name not in known:
            raise SubscriberError(
                f"unknown list {name!r}; create it with `subscribers import --list {name}` "
                "or fix the row"
            )
        list_ids.append(known[name])
    return {
        "email": email,
        "name": clean_name(cells.get("name")),
        "language": clean_language(cells.get("language")),
        "lists": sorted(set(list_ids)),
        "consent_date": _consent_date(cells.get("consent_date", "")),
        "source": clean_name(cells.get("source")) or default_source,
    }


class _BatchWriter:
    """Writes validated rows in batches: one query per batch for suppressions and existing
    people, one statement per new subscription. Duplicates are caught in a TEMP table, so
    memory stays flat however long the file is."""

    def __init__(self, db: Database, settings: Settings, report: ImportReport):
        self.db, self.settings, self.report = db, settings, report
        self.batch: list[tuple[int, dict]] = []

    def start(self) -> None:
        self.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_seen (email TEXT PRIMARY KEY, line INTEGER)"
        )
        self.db.execute("DELETE FROM temp.import_seen")

    def finish(self) -> None:
        self.db.execute("DROP TABLE IF EXISTS temp.import_seen")

    def add(self, line: int, row: dict) -> None:
        seen = self.db.execute(
            "INSERT OR IGNORE INTO temp.import_seen (email, line) VALUES (?, ?)",
            [row["email"], line],
        )
        if seen.rowcount == 0:
            first = self.db.execute(
                "SELECT line FROM temp.import_seen WHERE email = ?", [row["email"]]
            ).fetchone()[0]
            self.report.duplicates += 1
            self.report.problem(line, f"{row['email']} is a duplicate of line {first}; skipped")
            return
        self.batch.append((line, row))
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.batch or self.report.invalid:
            self.batch.clear()  # the file will be rejected: no point writing
            return
        db, report = self.db, self.report
        emails = [row["email"] for _line, row in self.batch]
        erased = consent.suppressed_hmacs(db, self.settings, emails)
        marks = ", ".join("?" for _ in emails)
        existing = dict(
            db.execute(f"SELECT email, id FROM subscribers WHERE email IN ({marks})", emails)  # noqa: S608 - only placeholders or fixed names are formatted in
        )
        statuses: dict[tuple[int, int], tuple[str, str]] = {
            (sid, lid): (status, updated)
            for sid, lid, status, updated in db.execute(
                "SELECT subscriber_id, list_id, status, updated FROM subscriptions "  # noqa: S608 - only placeholders or fixed names are formatted in
                f"WHERE subscriber_id IN ({', '.join('?' for _ in existing)})",
                list(existing.values()),
            )
        }
        now = utc_now()
        for line, row in self.batch:
            email = row["email"]
            if email in erased:
                report.suppressed += 1
                report.problem(line, f"{email} was erased on request; not imported")
                continue
            subscriber_id = existing.get(email)
            if subscriber_id is None:
                subscriber_id = db.execute(
                    "INSERT INTO subscribers (email, name, language, created) VALUES (?, ?, ?, ?)",
                    [email, row["name"], row["language"], now],
                ).lastrowid
                report.added += 1
            detail = (
                json.dumps({"consent_date": row["consent_date"]}) if row["consent_date"] else None
            )
            for list_pk in row["lists"]:
                state = statuses.get((subscriber_id, list_pk))
                if state is None:
                    self._subscribe(subscriber_id, list_pk, line, row["source"], detail, now)
                elif state[0] == "active":
                    report.already += 1
                else:
                    report.not_reactivated += 1
                    report.problem(line, f"{email} is {state[0]} since {state[1][:10]}; left as is")
        self.batch.clear()

    def _subscribe(self, subscriber_id, list_pk, line, source, detail, now) -> None:
        event_id = self.db.execute(
            "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, source, "
            "lawful_basis, detail) VALUES (?, 'import', ?, ?, ?, ?, 'consent', ?)",
            [now, subscriber_id, list_pk, f"csv:{self.report.path.name}:{line}", source, detail],
        ).lastrowid
        self.db.execute(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated, "
            "consent_event_id) VALUES (?, ?, 'active', ?, ?, ?)",
            [subscriber_id, list_pk, now, now, event_id],
        )
        self.report.subscribed += 1
