"""Retention of the send ledger: per-recipient rows older than NEWSLETTER_LEDGER_RETENTION_DAYS
are folded into per-issue counts (`delivery_counts`, migration m055).

A ledger row says that one person got one issue: personal data that the send needs while it
runs, that bounce handling needs for a few days, and that answers "did I send to X?" for a
while; kept for ever it grows by about 300 bytes per recipient per issue. An issue's rows on
one list are folded together once its last activity is older than the retention: the counts
per state (and of bounces and complaints reported back) keep `send-status`, the archive and
the feeds true; the rows and the bounce reports about them are deleted (the database runs with
`secure_delete`). A folded issue cannot be sent again, to any list (the rows that prevented a
second copy are gone): `run_send` refuses it. Late bounces for a folded issue no longer match
a message (they are counted as unmatched); an access export lists only the rows still kept.
It runs on its own in `serve` (a thread, `web.retention`), after `scheduled run`, and on
`newsletter ledger prune`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlite_utils import Database

from ..config import Settings
from ..errors import SendError
from ..store.db import open_db, transaction, utc_now

BOUNCE_OUTCOMES = {"hard": "bounced", "soft": "soft_bounced", "complaint": "complained"}


@dataclass
class FoldSummary:
    """What one fold did: issue/list groups folded and ledger rows removed."""

    groups: int = 0
    rows: int = 0
    bounce_reports: int = 0
    retention_days: int = 0

    def line(self) -> str:
        if not self.groups:
            return (
                f"Ledger: nothing older than {self.retention_days} days to fold; "
                "per-recipient rows are kept."
            )
        return (
            f"Ledger: folded {self.rows:,} per-recipient rows and {self.bounce_reports:,} "
            f"bounce reports of {self.groups} issue send(s) older than {self.retention_days} "
            "days into per-issue counts."
        )


def fold_old_deliveries(
    db: Database, retention_days: int, *, now: str | None = None
) -> FoldSummary:
    """Fold every issue/list whose last ledger activity is older than `retention_days`; one
    transaction per issue and list, so a stop halfway leaves each one whole or untouched."""
    summary = FoldSummary(retention_days=retention_days)
    if not db["deliveries"].exists():
        return summary
    now = now or utc_now()
    cutoff = _minus_days(now, retention_days)
    groups = db.execute(
        "SELECT issue, coalesce(list_id, 0) FROM deliveries GROUP BY issue, coalesce(list_id, 0) "
        "HAVING max(coalesce(sent_at, updated_at)) < ?",
        [cutoff],
    ).fetchall()
    for issue, list_id in groups:
        with transaction(db):
            rows, reports = _fold(db, issue, list_id, now)
        summary.groups += 1
        summary.rows += rows
        summary.bounce_reports += reports
    return summary


def _minus_days(stamp: str, days: int) -> str:
    """The database's time text `days` before `stamp`."""
    moment = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ") - dt.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_GROUP = "issue = ? AND coalesce(list_id, 0) = ?"


def _fold(db: Database, issue: str, list_id: int, now: str) -> tuple[int, int]:
    outcomes = [
        (state, number, first, last)
        for state, number, first, last in db.execute(
            f"SELECT state, count(*), min(sent_at), max(sent_at) FROM deliveries WHERE {_GROUP} "  # noqa: S608 - a fixed clause
            "GROUP BY state",
            [issue, list_id],
        )
    ]
    reports = 0
    if db["bounce_events"].exists():
        rows = f"SELECT id FROM deliveries WHERE {_GROUP}"  # noqa: S608 - a fixed clause
        for kind, number in db.execute(
            f"SELECT kind, count(DISTINCT delivery_id) FROM bounce_events WHERE delivery_id IN "  # noqa: S608
            f"({rows}) GROUP BY kind",
            [issue, list_id],
        ).fetchall():
            outcomes.append((BOUNCE_OUTCOMES[kind], number, None, None))
        reports = db.execute(
            f"DELETE FROM bounce_events WHERE delivery_id IN ({rows})",  # noqa: S608
            [issue, list_id],
        ).rowcount
    for outcome, number, first, last in outcomes:
        db.execute(
            "INSERT INTO delivery_counts (issue, list_id, outcome, count, first_sent_at, "
            "last_sent_at, folded_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (issue, list_id, outcome) DO UPDATE SET count = count + excluded.count, "
            "first_sent_at = coalesce(min(first_sent_at, excluded.first_sent_at), "
            "first_sent_at, excluded.first_sent_at), "
            "last_sent_at = coalesce(max(last_sent_at, excluded.last_sent_at), "
            "last_sent_at, excluded.last_sent_at), folded_at = excluded.folded_at",
            [issue, list_id, outcome, number, first, last, now],
        )
    removed = db.execute(
        f"DELETE FROM deliveries WHERE {_GROUP}",  # noqa: S608 - a fixed clause
        [issue, list_id],
    ).rowcount
    return removed, reports


def folded_counts(db: Database, issue: str, list_id: int | None = None) -> dict[str, int]:
    """Outcome -> count folded for `issue` (on one list when `list_id` is given)."""
    if not db["delivery_counts"].exists():
        return {}
    return dict(
        db.execute(
            "SELECT outcome, sum(count) FROM delivery_counts WHERE issue = ? "
            "AND (? IS NULL OR list_id = ?) GROUP BY outcome",
            [issue, list_id, list_id],
        ).fetchall()
    )


def refuse_folded(db: Database, issue: str) -> None:
    """SendError when `issue` was sent so long ago that its rows were folded (on any list: one
    row per issue and person is what keeps a second list from mailing someone twice): the
    ledger no longer knows who got it, so a run would mail everyone again."""
    if folded_counts(db, issue):
        raise SendError(
            f"{issue} was sent longer ago than "
            "NEWSLETTER_LEDGER_RETENTION_DAYS, and its per-recipient ledger has been folded "
            "into counts: the tool no longer knows who got it, so sending it again would mail "
            "everyone a second time. Make a new issue (newsletter new) instead"
        )


def prune_ledger(settings: Settings, *, now: str | None = None) -> FoldSummary:
    """Fold the ledger of the database in `settings` (NEWSLETTER_LEDGER_RETENTION_DAYS)."""
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        return fold_old_deliveries(db, settings.ledger_retention_days, now=now)
    finally:
        db.close()
