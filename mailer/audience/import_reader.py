"""Reading the subscriber files people have: CSV as Excel writes it, and .xlsx workbooks.

CSV: UTF-8 (with or without BOM), UTF-16 with BOM, or cp1252/Latin-1; comma, semicolon or tab.
.xlsx: the first worksheet, read with openpyxl in read-only mode (streamed, so memory stays flat);
date cells become ISO dates, whole numbers lose Excel's `.0`. Both yield the header and then
(row number, cells) with rows numbered as the spreadsheet shows them (header = row 1).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from ..errors import SubscriberError

CHUNK_SIZE = 1 << 16  # bytes read at a time when sniffing the encoding or counting lines
XLSX = "xlsx"  # the `encoding` a report shows for a workbook
XLSX_REJECTED = ("utf-8-sig", ";")  # how rejected rows of a workbook are written (Excel opens it)


def is_workbook(path: Path) -> bool:
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def detect_encoding(path: Path) -> str:
    """utf-8-sig / utf-16 by BOM, else UTF-8 if the whole file decodes, else cp1252, else Latin-1.
    Streams the file in chunks, so a stray byte on row 90,000 is found without loading it."""
    if is_workbook(path):
        return XLSX
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
    path = Path(path)
    if not path.is_file():
        return 1  # the import says what is wrong
    if is_workbook(path):
        return max(path.stat().st_size // 40, 1)  # a guess: the bar only shows movement
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            lines += chunk.count(b"\n")
    return max(lines, 1)


def read_table(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for the header (row 1) and every data row, blank rows included.
    The first item's second element is the header. Sets nothing; see `sniff_delimiter`."""
    if encoding == XLSX:
        yield from _xlsx_rows(path)
    else:
        yield from _csv_rows(path, encoding)


def sniff_delimiter(path: Path, encoding: str) -> str:
    """The delimiter the header line uses most (comma wins a tie)."""
    if encoding == XLSX:
        return XLSX_REJECTED[1]
    with path.open(encoding=encoding, newline="") as handle:
        first = handle.readline()
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    delimiter = sniff_delimiter(path, encoding)
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        row_number = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise SubscriberError(
                    f"{path}, line {reader.line_num}: not readable as CSV ({exc})"
                ) from None
            row_number += 1
            # rows are numbered as a spreadsheet shows them, which differs from text lines
            # only when a quoted cell holds a line break
            yield row_number, record


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise SubscriberError(f"{path}: not readable as an .xlsx workbook ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        for row_number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield row_number, [_cell_text(value) for value in values]
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """A workbook cell as the text a CSV export would hold (dates as ISO 8601)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_rejected(
    path: Path, encoding: str, delimiter: str, header: list[str], rows: list[list[str]]
) -> Path:
    """The rejected rows, each with a `reason` column, beside the input as NAME.rejected.csv,
    in the input's encoding and delimiter (a workbook's as UTF-8 with BOM and semicolons, which
    Excel opens in Sweden and Denmark). Written to a temporary file and renamed: never half."""
    if encoding == XLSX:
        encoding, delimiter = XLSX_REJECTED
    target = rejected_path(path)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding=encoding, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow([*header, "reason"])
        writer.writerows(rows)
    partial.replace(target)
    return target


def rejected_path(path: Path) -> Path:
    """members.csv -> members.rejected.csv (medlemmar.xlsx -> medlemmar.rejected.csv)."""
    return path.with_name(f"{path.stem}.rejected.csv")
