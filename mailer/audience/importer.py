"""CSV import of subscribers: the files people actually have, validated row by row, one transaction.

Reads UTF-8 (with or without BOM), UTF-16 with BOM, or cp1252/Latin-1 from Excel; comma,
semicolon or tab delimited; header names in any case and in Swedish, Danish or English. Rows
are streamed and written in batches inside ONE `BEGIN IMMEDIATE` transaction, so memory does
not grow with the file and either every valid row is in or none is. Any invalid row rejects the
whole file (all problems are reported with row numbers); duplicates, erased addresses and
people who unsubscribed are skipped and reported, never (re)activated.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlite_utils import Database

from ..config import Settings
from ..errors import SubscriberError
from ..store.db import transaction
from .import_report import ImportRejected, ImportReport
from .import_writer import BatchWriter
from .subscribers import (
    DEFAULT_LIST,
    clean_language,
    clean_list_name,
    clean_name,
    ensure_list,
    normalise_email,
)

CHUNK_SIZE = 1 << 16  # bytes read at a time when sniffing the encoding or counting lines
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


class CellError(SubscriberError):
    """One cell is invalid; `column` is our name for its column (email, name, lists ...)."""

    def __init__(self, column: str, message: str):
        self.column = column
        super().__init__(message)


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
                while chunk := handle.read(CHUNK_SIZE):
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
        while chunk := handle.read(CHUNK_SIZE):
            lines += chunk.count(b"\n")
    return max(lines, 1)


def _columns(header: list[str], path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = raw.strip().strip("\ufeff").lower().replace("_", " ")
        for column, names in HEADER_NAMES.items():
            if key in names or key.replace(" ", "_") in names:
                if column in found:
                    raise SubscriberError(f"{path}, row 1: two columns mean {column!r}")
                found[column] = index
    if "email" not in found:
        raise SubscriberError(
            f"{path}, row 1: no e-mail column (looked for email, e-post, e-mail); the header "
            f"has: {', '.join(h.strip() for h in header) or 'nothing'}"
        )
    return found


def _read_rows(path: Path, report: ImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for each non-blank data row, streamed."""
    with path.open(encoding=report.encoding, newline="") as handle:
        first = handle.readline()
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        report.delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        reader = csv.reader(_chain(first, handle), delimiter=report.delimiter)
        header = next(_records(reader, path), None)
        if header is None:
            raise SubscriberError(f"{path}: the file is empty")
        columns = _columns(header, path)
        report.headers = {name: header[i].strip().strip("\ufeff") for name, i in columns.items()}
        # rows are numbered as a spreadsheet shows them (header = row 1), which differs from
        # text lines only when a quoted cell holds a line break
        for row_number, record in enumerate(_records(reader, path), start=2):
            if not any(cell.strip() for cell in record):
                continue
            yield (
                row_number,
                {name: (record[i] if i < len(record) else "") for name, i in columns.items()},
            )


def _records(reader, path: Path) -> Iterator[list[str]]:
    """The reader's records, with CSV syntax errors (a NUL byte, a field over the size limit)
    turned into a message naming the file and line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SubscriberError(
                f"{path}, line {reader.line_num}: not readable as CSV ({exc})"
            ) from None


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
    writer = BatchWriter(db, settings, report)
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
                except CellError as exc:
                    report.invalid += 1
                    report.problem(line, str(exc), report.headers.get(exc.column, exc.column))
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
    """The row's values, checked; CellError names the column of the first bad cell."""
    email = _cell("email", normalise_email, cells["email"])
    names = [n for n in LIST_SEPARATORS.split(cells.get("lists", "").strip().lower()) if n]
    list_ids = []
    for name in names or [default_list]:
        name = _cell("lists", clean_list_name, name)
        if name not in known:
            raise CellError(
                "lists",
                f"unknown list {name!r}; create it with `subscribers import --list {name}` "
                "or fix the row",
            )
        list_ids.append(known[name])
    return {
        "email": email,
        "name": _cell("name", clean_name, cells.get("name")),
        "language": _cell("language", clean_language, cells.get("language")),
        "lists": sorted(set(list_ids)),
        "consent_date": _cell("consent_date", _consent_date, cells.get("consent_date", "")),
        "source": _cell("source", clean_name, cells.get("source")) or default_source,
    }


def _cell(column: str, check: Callable, value):
    try:
        return check(value)
    except SubscriberError as exc:
        raise CellError(column, str(exc)) from None
