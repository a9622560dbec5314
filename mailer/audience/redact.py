"""Erasure reaches the erased address where it stands in other people's records.

An import file named after a person (`anna@example.se.csv`) or a source note quoting an
address puts that address in other people's consent-log rows. The log is append-only (a
trigger allows only a whole row's anonymisation), so this redaction lifts the trigger for one
statement inside the erasure's transaction and puts the same trigger back: the other person's
row keeps when, what, how and why, with the erased address replaced by "[erased]".
"""

from __future__ import annotations

import re

from sqlite_utils import Database

REDACTED = "[erased]"
LOG_COLUMNS = ("channel", "source", "detail")
TRIGGER = "consent_log_only_anonymise"


def redact_address(db: Database, email: str) -> int:
    """Replace `email` (any case) in other people's consent-log text; returns rows changed.
    Must run inside the erasure's transaction."""
    needle = email.lower()
    where = " OR ".join(f"instr(lower(coalesce({c}, '')), ?) > 0" for c in LOG_COLUMNS)
    rows = db.execute(
        f"SELECT id, {', '.join(LOG_COLUMNS)} FROM consent_log WHERE {where}",  # noqa: S608 - fixed column names
        [needle] * len(LOG_COLUMNS),
    ).fetchall()
    if not rows:
        return 0
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    (trigger_sql,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [TRIGGER]
    ).fetchone() or (None,)
    if trigger_sql:
        db.execute(f"DROP TRIGGER {TRIGGER}")
    try:
        for row_id, *values in rows:
            cleaned = [pattern.sub(REDACTED, v) if v else v for v in values]
            db.execute(
                f"UPDATE consent_log SET {', '.join(f'{c} = ?' for c in LOG_COLUMNS)} "  # noqa: S608 - fixed column names
                "WHERE id = ?",
                [*cleaned, row_id],
            )
    finally:
        if trigger_sql:
            db.execute(trigger_sql)
    return len(rows)


def redact_bounce_reports(db: Database, email: str) -> int:
    """Replace `email` (any case) in the words of other people's bounce reports (a report about
    several recipients, a relay quoting a forwarding address); returns rows changed. Their own
    reports are deleted with them."""
    if not db["bounce_events"].exists():
        return 0
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    rows = db.execute(
        "SELECT id, diagnostic, decision FROM bounce_events WHERE instr(lower(coalesce("
        "diagnostic, '') || ' ' || decision), ?) > 0",
        [email.lower()],
    ).fetchall()
    for row_id, diagnostic, decision in rows:
        db.execute(
            "UPDATE bounce_events SET diagnostic = ?, decision = ? WHERE id = ?",
            [pattern.sub(REDACTED, diagnostic or ""), pattern.sub(REDACTED, decision), row_id],
        )
    return len(rows)


def places_holding(db: Database, email: str) -> list[str]:
    """`table.column` of every text column that still holds `email` (for the error message
    when an erased address cannot be scrubbed from the file)."""
    found = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        if table.startswith("sqlite_"):
            continue
        for column in db[table].columns:
            if column.type.upper() not in ("TEXT", ""):
                continue
            hit = db.execute(
                f"SELECT 1 FROM [{table}] WHERE instr(lower([{column.name}]), ?) > 0 LIMIT 1",  # noqa: S608 - names from the schema
                [email.lower()],
            ).fetchone()
            if hit:
                found.append(f"{table}.{column.name}")
    return found
