"""Bounces and complaints reported back for one issue, for `send-status`."""

from __future__ import annotations

from sqlite_utils import Database

from ..retention import BOUNCE_OUTCOMES, folded_counts


def issue_counts(db: Database, issue: str) -> dict[str, int]:
    """Reports per kind (hard, soft, complaint) for `issue`, by distinct message, of the reports
    that proved they answer our message (those with unverified reports only under
    'unverified'), including the counts folded after the ledger's retention: counts only,
    nothing about the people (`send-status` and the funder's report use this)."""
    counts = dict(
        db.execute(
            "SELECT CASE unverified WHEN 1 THEN 'unverified' ELSE kind END, "
            "count(DISTINCT delivery_id) FROM bounce_events WHERE issue = ? GROUP BY 1",
            [issue],
        ).fetchall()
    )
    folded = folded_counts(db, issue)  # reports deleted after the retention, still counted
    for kind, outcome in BOUNCE_OUTCOMES.items():
        counts[kind] = counts.get(kind, 0) + folded.get(outcome, 0)
    return counts


def issue_reports(db: Database, issue: str) -> dict:
    """Counts (bounced = hard, soft-bounced = soft, complained, unverified) as `issue_counts`,
    and every report still kept with its status, diagnostic and decision."""
    counts = issue_counts(db, issue)
    cursor = db.execute(
        "SELECT b.kind, s.email, b.status, b.diagnostic, b.reported_at, b.decision "
        "FROM bounce_events b LEFT JOIN subscribers s ON s.id = b.subscriber_id "
        "WHERE b.issue = ? ORDER BY b.kind, b.reported_at, b.id",
        [issue],
    )
    columns = [c[0] for c in cursor.description]
    return {
        "bounced": counts.get("hard", 0),
        "soft_bounced": counts.get("soft", 0),
        "complained": counts.get("complaint", 0),
        "unverified": counts.get("unverified", 0),
        "events": [dict(zip(columns, row, strict=True)) for row in cursor],
    }
