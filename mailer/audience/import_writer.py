"""Writes validated import rows in batches inside the import's one transaction.

Per batch of 500 rows: one query each for duplicates (a TEMP table, so memory stays flat
however long the file is), suppressions, existing people and their subscriptions, then one
`executemany` each for new people, consent events and subscriptions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlite_utils import Database

from ..config import Settings
from ..errors import DatabaseError
from ..store.db import utc_now
from . import consent, fields

if TYPE_CHECKING:
    from .import_report import ImportReport

BATCH_SIZE = 500


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


class BatchWriter:
    """Collects (line, row) pairs and writes them BATCH_SIZE at a time."""

    def __init__(
        self, db: Database, settings: Settings, report: ImportReport, *, skip_invalid=False
    ):
        self.db, self.settings, self.report = db, settings, report
        self.skip_invalid = skip_invalid
        self.batch: list[tuple[int, dict]] = []

    def start(self) -> None:
        self.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_seen (email TEXT PRIMARY KEY, line INTEGER)"
        )
        self.db.execute("DELETE FROM temp.import_seen")

    def finish(self) -> None:
        self.db.execute("DROP TABLE IF EXISTS temp.import_seen")

    def add(self, line: int, row: dict) -> None:
        self.batch.append((line, row))
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        unique = self._drop_duplicates(batch)
        # a file with invalid rows is rejected anyway, unless they are to be skipped
        if unique and (self.skip_invalid or not self.report.invalid):
            self._write(unique)

    def _drop_duplicates(self, batch: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
        emails = list({row["email"] for _line, row in batch})
        first_line = dict(
            self.db.execute(
                f"SELECT email, line FROM temp.import_seen WHERE email IN ({_marks(emails)})",  # noqa: S608 - only placeholders are formatted in
                emails,
            )
        )
        unique = []
        for line, row in batch:
            first = first_line.get(row["email"])
            if first is not None:
                self.report.duplicates += 1
                self.report.problem(line, f"{row['email']} is a duplicate of row {first}; skipped")
                continue
            first_line[row["email"]] = line
            unique.append((line, row))
        self.db.conn.executemany(
            "INSERT INTO temp.import_seen (email, line) VALUES (?, ?)",
            [(row["email"], line) for line, row in unique],
        )
        return unique

    def _write(self, rows: list[tuple[int, dict]]) -> None:
        db, report, now = self.db, self.report, utc_now()
        erased = consent.suppressed_hmacs(db, self.settings, [r["email"] for _l, r in rows])
        for line, row in rows:
            if row["email"] in erased:
                report.suppressed += 1
                report.problem(line, f"{row['email']} was erased on request; not imported")
        rows = [(line, row) for line, row in rows if row["email"] not in erased]
        if not rows:
            return
        emails = [row["email"] for _line, row in rows]
        select_people = f"SELECT email, id FROM subscribers WHERE email IN ({_marks(emails)})"  # noqa: S608 - only placeholders are formatted in
        people = dict(db.execute(select_people, emails))
        new_people = [row for _line, row in rows if row["email"] not in people]
        db.conn.executemany(
            "INSERT INTO subscribers (email, name, language, created) VALUES (?, ?, ?, ?)",
            [(row["email"], row["name"], row["language"], now) for row in new_people],
        )
        report.added += len(new_people)
        if new_people:
            people = dict(db.execute(select_people, emails))
        # custom fields: new people get theirs; people already known keep their values
        # (`subscribers set` changes them) and gain only fields they did not have
        fields.add_missing_fields(
            db,
            (
                (people[row["email"]], name, value)
                for _line, row in rows
                for name, value in row.get("fields", {}).items()
            ),
        )
        select_statuses = (
            "SELECT subscriber_id, list_id, status, updated FROM subscriptions "  # noqa: S608 - only placeholders are formatted in
            f"WHERE subscriber_id IN ({_marks(people)})"
        )
        statuses = {
            (sid, lid): (status, updated)
            for sid, lid, status, updated in db.execute(select_statuses, list(people.values()))
        }
        wanted = []  # (subscriber_id, list_id, line, source, detail)
        for line, row in rows:
            sid = people[row["email"]]
            for list_pk in row["lists"]:
                state = statuses.get((sid, list_pk))
                if state is None:
                    detail = row["consent_date"] and json.dumps(
                        {"consent_date": row["consent_date"]}
                    )
                    wanted.append((sid, list_pk, line, row["source"], detail))
                elif state[0] == "active":
                    report.already += 1
                else:
                    report.not_reactivated += 1
                    report.problem(
                        line, f"{row['email']} is {state[0]} since {state[1][:10]}; left as is"
                    )
        self._subscribe(wanted, now)

    def _subscribe(self, wanted: list[tuple], now: str) -> None:
        """One 'import' consent event and one active subscription pointing at it per item.

        Event ids are read back from the id range: INTEGER PRIMARY KEY rows inserted by one
        connection holding the write lock get consecutive ids (checked, not assumed)."""
        if not wanted:
            return
        db = self.db
        before = db.execute("SELECT coalesce(max(id), 0) FROM consent_log").fetchone()[0]
        name = self.report.path.name
        db.conn.executemany(
            "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, source, "
            "lawful_basis, detail) VALUES (?, 'import', ?, ?, ?, ?, 'consent', ?)",
            [
                (now, sid, lid, f"csv:{name}:{line}", src, det)
                for sid, lid, line, src, det in wanted
            ],
        )
        after = db.execute("SELECT max(id) FROM consent_log").fetchone()[0]
        if after - before != len(wanted):
            raise DatabaseError("consent_log ids are not consecutive; import rolled back")
        db.conn.executemany(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated, "
            "consent_event_id) VALUES (?, ?, 'active', ?, ?, ?)",
            [(w[0], w[1], now, now, before + 1 + i) for i, w in enumerate(wanted)],
        )
        self.report.subscribed += len(wanted)
