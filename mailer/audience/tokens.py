"""Tokens for the unsubscribe, preferences and confirm links: random, hashed at rest, one purpose.

A token is 256 bits from `secrets`, shown once (in the link) and stored only as its SHA-256,
so a copy of the database cannot be used to unsubscribe or confirm anyone. The row is found by
hash and the hash is compared again with `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlite_utils import Database

from ..store.db import transaction, utc_now
from .migrations import TOKEN_PURPOSES

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
DEFAULT_CONFIRM_TTL_SECONDS = 48 * 3600
COLUMNS = ("id", "purpose", "subscriber_id", "list_id", "scope", "created", "expires", "used_at")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_purpose(purpose: str) -> None:
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}; use one of {TOKEN_PURPOSES}")


def issue_token(
    db: Database,
    purpose: str,
    subscriber_id: int,
    list_id: int | None = None,
    *,
    ttl_seconds: float | None = None,
    scope: str | None = None,
) -> str:
    """A new token for one purpose and person (and list). Confirm tokens always expire (48 h
    unless `ttl_seconds` says otherwise); the others expire only when given a TTL."""
    _check_purpose(purpose)
    if purpose == "confirm" and ttl_seconds is None:
        ttl_seconds = DEFAULT_CONFIRM_TTL_SECONDS
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = None if ttl_seconds is None else utc_now(ttl_seconds)
    with transaction(db):
        db.execute(
            "INSERT INTO tokens (purpose, token_hash, subscriber_id, list_id, scope, created, "
            "expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [purpose, hash_token(token), subscriber_id, list_id, scope, utc_now(), expires],
        )
    return token


def lookup_token(db: Database, purpose: str, token: str) -> dict | None:
    """The token's row (subscriber_id, list_id, ...) if it is valid for `purpose`: known,
    same purpose, not expired, not used. None otherwise, whatever the reason."""
    _check_purpose(purpose)
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    digest = hash_token(token)
    sql = f"SELECT {', '.join(COLUMNS)}, token_hash FROM tokens WHERE token_hash = ?"  # noqa: S608 - fixed column names only
    row = db.execute(sql, [digest]).fetchone()
    if row is None:
        return None
    found = dict(zip(COLUMNS, row[:-1], strict=True))
    if not hmac.compare_digest(row[-1], digest) or not hmac.compare_digest(
        found["purpose"], purpose
    ):
        return None
    if found["used_at"] is not None:
        return None
    if found["expires"] is not None and found["expires"] <= utc_now():
        return None
    return found


def consume_token(db: Database, purpose: str, token: str) -> dict | None:
    """Like lookup_token, and marks the token used so it works once (two concurrent clicks:
    exactly one wins, thanks to the IMMEDIATE transaction and the `used_at IS NULL` guard)."""
    with transaction(db):
        found = lookup_token(db, purpose, token)
        if found is None:
            return None
        used = db.execute(
            "UPDATE tokens SET used_at = ? WHERE id = ? AND used_at IS NULL",
            [utc_now(), found["id"]],
        )
        if used.rowcount != 1:
            return None
        return found


def issued_since(
    db: Database, purpose: str, subscriber_id: int, scope: str | None, seconds: float
) -> bool:
    """Whether a token of this purpose and scope was issued to the person in the last
    `seconds` (a limit that holds across processes and restarts)."""
    _check_purpose(purpose)
    row = db.execute(
        "SELECT 1 FROM tokens WHERE subscriber_id = ? AND purpose = ? AND scope IS ? "
        "AND created > ? LIMIT 1",
        [subscriber_id, purpose, scope, utc_now(-seconds)],
    ).fetchone()
    return row is not None


def release_token(db: Database, token_id: int) -> None:
    """Make a consumed token usable again, after the step it allowed failed and changed nothing."""
    with transaction(db):
        db.execute("UPDATE tokens SET used_at = NULL WHERE id = ?", [token_id])
