"""Bounces and complaints reported back for one issue, for `send-status`."""

from __future__ import annotations

from sqlite_utils import Database


def issue_counts(db: Database, issue: str) -> dict[str, int]:
    """Reports per kind (hard, soft, complaint) for `issue`, by distinct message: counts only,
    nothing about the people (the funder's report uses this)."""
    return dict(
        db.execute(
            "SELECT kind, count(DISTINCT delivery_id) FROM bounce_events WHERE issue = ? "
            "GROUP BY kind",
            [issue],
        ).fetchall()
    )


def issue_reports(db: Database, issue: str) -> dict:
    """Counts (bounced = hard, soft-bounced = soft, complained) by distinct message, and every
    report with its status, diagnostic and decision."""
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
        "events": [dict(zip(columns, row, strict=True)) for row in cursor],
    }
