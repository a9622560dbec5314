"""What an import did (or, for a dry run or a rejected file, would have done), row by row.

Its own module so that the reader (`importer`) and the writer (`import_writer`) both use it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SubscriberError

MAX_PROBLEMS = 1000


class ImportRejected(SubscriberError):
    """The file has invalid rows; nothing was written. `report` lists every problem."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(report.describe(rejected=True))


def count(number: int, word: str, words: str | None = None) -> str:
    """'1 row', '2 rows' ('1 new person', '3 new people' with `words`)."""
    return f"{number} {word if number == 1 else words or word + 's'}"


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
    skipped_invalid: bool = False  # --skip-invalid: invalid rows left out, the rest imported
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # our column name -> the file's
    header_row: list[str] = field(default_factory=list)  # the header as the file has it
    rejected_file: Path | None = None  # where --skip-invalid wrote the invalid rows
    fields: list[str] = field(default_factory=list)  # extra columns kept as custom fields
    ignored_columns: list[str] = field(default_factory=list)  # columns that cannot be fields

    def problem(self, line: int, text: str, column: str | None = None) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            where = f"row {line}" if column is None else f"row {line}, column {column!r}"
            self.problems.append(f"{self.path.name}, {where}: {text}")

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        if self.invalid and self.rejected_file is None and not self.skipped_invalid:
            return (
                f"{self.path.name}: rejected: {count(self.rows, 'row')} read ({self.encoding}, "
                f"'{self.delimiter}'), {self.invalid} invalid, "
                f"{count(self.duplicates, 'duplicate')}"
            )
        return (
            f"{self.path.name}: {verb} {count(self.rows, 'row')} ({self.encoding}, "
            f"'{self.delimiter}'): {count(self.added, 'new person', 'new people')}, "
            f"{count(self.subscribed, 'new subscription')}, {self.already} already "
            f"subscribed, {self.not_reactivated} not reactivated, {self.suppressed} erased, "
            f"{count(self.duplicates, 'duplicate')}, {self.invalid} invalid"
        )

    def describe(self, rejected: bool = False) -> str:
        lines = list(self.problems)
        if self.problem_count > len(self.problems):
            more = self.problem_count - len(self.problems)
            lines.append(f"... and {count(more, 'more problem')}")
        if rejected:
            lines.append(
                f"{count(self.invalid, 'invalid row')}: nothing was imported; fix "
                f"{'it' if self.invalid == 1 else 'them'} and run again (or import the valid "
                "rows with --skip-invalid)"
            )
        if self.fields:
            lines.append(f"Custom fields from the other columns: {', '.join(self.fields)}")
        lines += [f"Column {text} left out" for text in self.ignored_columns]
        lines.append(self.summary())
        if self.rejected_file is not None:
            lines.append(
                f"{self.invalid} invalid rows written to {self.rejected_file} with a reason "
                "column: fix them there and import that file"
            )
        return "\n".join(lines)
