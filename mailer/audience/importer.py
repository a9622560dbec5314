"""Import of subscribers: the files people actually have, validated row by row, one transaction.

Reads CSV (UTF-8 with or without BOM, UTF-16 with BOM, or cp1252/Latin-1 from Excel; comma,
semicolon or tab delimited) and .xlsx workbooks (see `import_reader`); header names in any case
and in Swedish, Danish or English; dates as Excel writes them (see `import_dates`). Rows are
streamed and written in batches inside ONE `BEGIN IMMEDIATE` transaction, so memory does not
grow with the file and either every valid row is in or none is. Any invalid row rejects the
whole file (all problems are reported with row numbers) unless `skip_invalid` is given: then the
valid rows go in and the invalid ones go to NAME.rejected.csv with a reason. Duplicates, erased
addresses and people who unsubscribed are skipped and reported, never (re)activated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlite_utils import Database

from ..config import Settings
from ..errors import SubscriberError
from ..store.db import transaction
from .fields import clean_field_name, clean_field_value
from .import_dates import DateOrder
from .import_reader import (
    detect_encoding,
    estimate_rows,
    read_table,
    sniff_delimiter,
    write_rejected,
)
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

__all__ = ["ImportRejected", "ImportReport", "detect_encoding", "estimate_rows", "import_csv"]
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


def _field_columns(
    header: list[str], known: dict[str, int], path: Path, report: ImportReport
) -> dict[str, int]:
    """The other columns, kept as custom fields (`län`, `organisation`) by their cleaned
    header; a header that cannot be a field name is left out and reported."""
    taken = set(known.values())
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        title = raw.strip().strip("\ufeff")
        if index in taken or not title or title.lower() == "reason":
            continue
        try:
            name = clean_field_name(title)
        except SubscriberError as exc:
            report.ignored_columns.append(f"{title!r} ({exc})")
            continue
        if name in found:
            raise SubscriberError(f"{path}, row 1: two columns are the field {name!r}")
        found[name] = index
    return found


def _read_rows(path: Path, report: ImportReport) -> Iterator[tuple[int, dict[str, str], list[str]]]:
    """(row number, {column: text}, the row as read) for each non-blank data row, streamed."""
    rows = read_table(path, report.encoding)
    report.delimiter = sniff_delimiter(path, report.encoding)
    first = next(rows, None)
    if first is None:
        raise SubscriberError(f"{path}: the file is empty")
    header = first[1]
    columns = _columns(header, path)
    report.headers = {name: header[i].strip().strip("\ufeff") for name, i in columns.items()}
    report.header_row = header
    field_columns = _field_columns(header, columns, path, report)
    report.fields = list(field_columns)
    for name, i in field_columns.items():
        report.headers[f"field:{name}"] = header[i].strip().strip("\ufeff")
    for row_number, record in rows:
        if not any(cell.strip() for cell in record):
            continue
        cells = {name: (record[i] if i < len(record) else "") for name, i in columns.items()}
        cells.update(
            {
                f"field:{name}": (record[i] if i < len(record) else "")
                for name, i in field_columns.items()
            }
        )
        yield row_number, cells, record


def _date_order(path: Path, report: ImportReport) -> DateOrder:
    """A first pass over the consent dates, to decide how this file writes d/m vs m/d."""
    order = DateOrder()
    probe = ImportReport(path=path, encoding=report.encoding)
    for row_number, cells, _record in _read_rows(path, probe):
        if "consent_date" not in cells:
            break
        order.learn(row_number, cells["consent_date"])
    return order


def _consent_date(text: str, order: DateOrder) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        moment = order.parse(text)
    except SubscriberError as exc:
        raise SubscriberError(f"consent_date {exc}") from None
    if moment.date() > dt.date.today():
        raise SubscriberError(f"consent_date {text!r} is in the future")
    if moment.time() == dt.time(0) and len(text) <= 10:
        return moment.date().isoformat()
    return moment.isoformat(sep=" ")


def import_csv(
    db: Database,
    settings: Settings,
    path: str | Path,
    *,
    list_name: str = DEFAULT_LIST,
    source: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV or .xlsx file; raises ImportRejected (nothing written) if any row is invalid.

    With `skip_invalid` the valid rows are imported and the invalid ones are written, each with
    its reason, to NAME.rejected.csv beside the file (not on a dry run), to fix and import again.
    `list_name` is created if missing and used for rows without a lists column; lists named in
    the file must exist already (a typo should not create a list). A dry run does everything
    inside the transaction and then rolls it back, so its figures are exact."""
    path = Path(path)
    if not path.is_file():
        raise SubscriberError(f"{path}: no such file")
    report = ImportReport(path=path, dry_run=dry_run, encoding=detect_encoding(path))
    default_list = clean_list_name(list_name)
    default_source = clean_name(source) or None
    report.skipped_invalid = skip_invalid
    writer = BatchWriter(db, settings, report, skip_invalid=skip_invalid)
    order = _date_order(path, report)
    rejected: list[list[str]] = []
    try:
        with transaction(db):
            known = dict(db.execute("SELECT name, id FROM lists").fetchall())
            known[default_list] = ensure_list(db, default_list)
            writer.start()
            for line, cells, record in _read_rows(path, report):
                report.rows += 1
                if progress:
                    progress(1)
                try:
                    row = _validate(cells, known, default_list, default_source, order)
                except CellError as exc:
                    report.invalid += 1
                    column = report.headers.get(exc.column, exc.column)
                    report.problem(line, str(exc), column)
                    if skip_invalid:
                        rejected.append([*record, f"row {line}, column {column!r}: {exc}"])
                    continue
                writer.add(line, row)
            writer.flush()
            writer.finish()
            if report.invalid and not skip_invalid:
                raise ImportRejected(report)
            if dry_run:
                raise _DryRun
            if rejected:
                report.rejected_file = write_rejected(
                    path, report.encoding, report.delimiter, report.header_row, rejected
                )
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _validate(
    cells: dict[str, str], known: dict, default_list: str, default_source, order: DateOrder
) -> dict:
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
        "consent_date": _cell(
            "consent_date", lambda text: _consent_date(text, order), cells.get("consent_date", "")
        ),
        "source": _cell("source", clean_name, cells.get("source")) or default_source,
        "fields": {
            key[6:]: _cell(key, lambda text, name=key[6:]: clean_field_value(name, text), text)
            for key, text in cells.items()
            if key.startswith("field:")
        },
    }


def _cell(column: str, check: Callable, value):
    try:
        return check(value)
    except SubscriberError as exc:
        raise CellError(column, str(exc)) from None
