"""Schema migrations of the remote wing: API tokens (hashed) and the audit log of changes made
through them.

Recorded in `_sqlite_migrations` under the set name "newsletter-api". Imports only
sqlite-utils, like every wing's migrations module.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("newsletter-api")


@MIGRATIONS()
def m030_api_tokens_and_audit(db: sqlite_utils.Database) -> None:
    """Tokens are kept as a SHA-256 of the secret only; the audit names the token, never a
    person (an erased address must not survive in it)."""
    db.execute(
        """CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            token_hash TEXT NOT NULL UNIQUE,
            created TEXT NOT NULL,
            last_used TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE api_audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            token_name TEXT NOT NULL,
            action TEXT NOT NULL,
            counts TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("CREATE INDEX api_audit_at ON api_audit (at)")
