"""Aggregate click counts of issues built with NEWSLETTER_CLICK_COUNTING=on: one counter per
issue and link number (table `link_clicks`), nothing about who clicked."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database


def add_click(db: Database, issue: str, link: int) -> None:
    """One more click on link `link` of `issue`; the caller holds a write transaction."""
    db.execute(
        "INSERT INTO link_clicks (issue, link, clicks) VALUES (?, ?, 1) "
        "ON CONFLICT (issue, link) DO UPDATE SET clicks = clicks + 1",
        [issue, link],
    )


def issue_clicks(db: Database, issue: str) -> dict[int, int]:
    """Clicks per link number of `issue` (links never followed are absent)."""
    try:
        rows = db.execute(
            "SELECT link, clicks FROM link_clicks WHERE issue = ? ORDER BY link", [issue]
        ).fetchall()
    except sqlite3.OperationalError:  # a database from before migration m070
        return {}
    return dict(rows)
