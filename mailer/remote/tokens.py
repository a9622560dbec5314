"""API tokens: made on the server (`newsletter tokens create NAME`), shown once, kept hashed.

A token is 256 random bits; the database holds only its SHA-256, so a copy of the database
(a backup) lets nobody in. A plain hash suffices because the secret is random, not a password
a person chose. Looking a token up by its hash and comparing in constant time leaks nothing
about the secret. Revoking deletes the row: the next request with that token is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import sqlite_utils

from ..errors import MailerError
from ..store.db import transaction, utc_now

TOKEN_PREFIX = "nlt_"  # noqa: S105 - marks a string as ours, not a secret
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class TokenError(MailerError):
    """A token cannot be made or revoked (bad name, already there, unknown)."""


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(db: sqlite_utils.Database, name: str) -> str:
    """Make token `name` and return its secret: the only time anyone sees it."""
    if not NAME_PATTERN.fullmatch(name):
        raise TokenError(
            f"token name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-' "
            "(e.g. anna-laptop)"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(db):
        if db.execute("SELECT 1 FROM api_tokens WHERE name = ?", [name]).fetchone():
            raise TokenError(
                f"a token named {name!r} exists; revoke it first "
                f"(newsletter tokens revoke {name}) or choose another name"
            )
        db.execute(
            "INSERT INTO api_tokens (name, token_hash, created) VALUES (?, ?, ?)",
            [name, token_hash(secret), utc_now()],
        )
    return secret


def list_tokens(db: sqlite_utils.Database) -> list[dict]:
    """Every live token: name, created, last used (never the secret or its hash)."""
    cursor = db.execute("SELECT name, created, last_used FROM api_tokens ORDER BY name")
    return [dict(zip(("name", "created", "last_used"), row, strict=True)) for row in cursor]


def revoke_token(db: sqlite_utils.Database, name: str) -> None:
    """End token `name` at once: its next request is refused."""
    with transaction(db):
        if not db.execute("DELETE FROM api_tokens WHERE name = ?", [name]).rowcount:
            raise TokenError(f"no token named {name!r} (newsletter tokens list shows them)")


def find_token(db: sqlite_utils.Database, secret: str) -> dict | None:
    """The token row (id, name) for `secret`, or None; the hashes are compared in constant
    time."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    wanted = token_hash(secret)
    row = db.execute(
        "SELECT id, name, token_hash, last_used FROM api_tokens WHERE token_hash = ?", [wanted]
    )
    found = row.fetchone()
    if found is None or not hmac.compare_digest(found[2], wanted):
        return None
    return {"id": found[0], "name": found[1], "last_used": found[3]}


def touch_token(db: sqlite_utils.Database, token_id: int) -> None:
    """Record that the token was used now (for `tokens list`)."""
    db.execute("UPDATE api_tokens SET last_used = ? WHERE id = ?", [utc_now(), token_id])
