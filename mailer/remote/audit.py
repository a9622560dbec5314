"""The audit log: every change made through an API token, with the token's name, the time,
the action and its counts (`newsletter audit`). Never an address: what a token did to whom
is in the consent log, which erasure anonymises; this log must not keep the person alive.
"""

from __future__ import annotations

import json

import sqlite_utils

from ..store.db import utc_now


def record_audit(
    db: sqlite_utils.Database, token_name: str, action: str, counts: dict | None = None
) -> None:
    """Append one entry; `counts` maps a word to a number (e.g. {"imported": 3})."""
    db.execute(
        "INSERT INTO api_audit (at, token_name, action, counts) VALUES (?, ?, ?, ?)",
        [utc_now(), token_name, action, json.dumps(counts or {}, sort_keys=True)],
    )


def list_audit(
    db: sqlite_utils.Database, *, token_name: str | None = None, limit: int | None = None
) -> list[dict]:
    """Entries oldest first (the newest `limit` when given), optionally of one token."""
    where, params = ("WHERE token_name = ?", [token_name]) if token_name else ("", [])
    sql = f"SELECT at, token_name, action, counts FROM api_audit {where} ORDER BY id DESC"  # noqa: S608
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = [
        {"at": at, "token": name, "action": action, "counts": json.loads(counts)}
        for at, name, action, counts in db.execute(sql, params).fetchall()
    ]
    return rows[::-1]


def format_audit(entry: dict) -> str:
    """One line: time, token, action, counts."""
    counts = ", ".join(f"{n} {word}" for word, n in entry["counts"].items())
    return f"{entry['at'][:19].replace('T', ' ')}Z  {entry['token']}  {entry['action']}" + (
        f"  ({counts})" if counts else ""
    )
