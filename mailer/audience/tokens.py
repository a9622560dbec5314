"""Tokens for the unsubscribe, preferences and confirm links: one purpose each, checked in
constant time.

Two kinds. A stored token is 256 bits from `secrets`, shown once (in the link) and stored only
as its SHA-256, so a copy of the database cannot be used to unsubscribe or confirm anyone; the
row is found by hash and compared again with `hmac.compare_digest`. Confirm tokens and the
mailed export/erase links are stored tokens (they expire and work once).

The unsubscribe and preferences links in a newsletter are signed tokens that need no row, so
the database does not grow with every issue sent: the purpose, subscriber and list, with an
HMAC-SHA256 (128 bits kept) keyed with NEWSLETTER_SECRET_KEY over them and the subscriber's
creation time (so a link of an erased person never opens a later subscriber who got the same
row id). The same person and list always get the same link. Stored tokens mailed by earlier
versions keep working: a token that is not a valid signed one is looked up by hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from collections.abc import Sequence

from sqlite_utils import Database

from ..store.db import transaction, utc_now
from .migrations import TOKEN_PURPOSES

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
DEFAULT_CONFIRM_TTL_SECONDS = 48 * 3600
COLUMNS = ("id", "purpose", "subscriber_id", "list_id", "scope", "created", "expires", "used_at")
SIGNED_VERSION = 1
SIGNED_PURPOSES = ("unsubscribe", "preferences")
_SIGNED = struct.Struct(">BBQQ")  # version, purpose, subscriber id, list id (0 = none)
_MAC_BYTES = 16
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer; the token packs ids as unsigned 64-bit
SIGNED_LENGTH = len(base64.urlsafe_b64encode(bytes(_SIGNED.size + _MAC_BYTES)).rstrip(b"="))


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


def _signature(secret_key: str, payload: bytes, subscriber_created: str) -> bytes:
    message = b"link-token\0" + payload + subscriber_created.encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).digest()[:_MAC_BYTES]


def signed_token(
    secret_key: str, purpose: str, subscriber_id: int, list_id: int | None, subscriber_created: str
) -> str:
    """The unsubscribe or preferences token of one person (and list), needing no row.
    `subscriber_created` is the person's `subscribers.created` value."""
    if purpose not in SIGNED_PURPOSES:
        raise ValueError(f"only {SIGNED_PURPOSES} links are signed, not {purpose!r}")
    code = SIGNED_PURPOSES.index(purpose) + 1
    payload = _SIGNED.pack(SIGNED_VERSION, code, subscriber_id, list_id or 0)
    raw = payload + _signature(secret_key, payload, subscriber_created)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _lookup_signed(
    db: Database, purpose: str, token: str, secret_keys: tuple[str, ...]
) -> dict | None:
    """The owner of a valid signed token, as a row-like dict (id None: nothing to consume).
    Each key is tried (the current one and NEWSLETTER_SECRET_KEY_PREVIOUS: links in issues
    sent before a key rotation keep working)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _SIGNED.size + _MAC_BYTES:
        return None
    payload, mac = raw[: _SIGNED.size], raw[_SIGNED.size :]
    version, code, subscriber_id, list_id = _SIGNED.unpack(payload)
    if version != SIGNED_VERSION or not 1 <= code <= len(SIGNED_PURPOSES):
        return None
    if max(subscriber_id, list_id) > MAX_ROW_ID:  # SQLite cannot even be asked (OverflowError)
        return None
    row = db.execute("SELECT created FROM subscribers WHERE id = ?", [subscriber_id]).fetchone()
    created = row[0] if row else "no such subscriber"
    # compare under every key first, then decide: the time taken does not depend on which
    # part was wrong
    matches = [hmac.compare_digest(mac, _signature(k, payload, created)) for k in secret_keys]
    valid = any(matches)
    if not valid or row is None or SIGNED_PURPOSES[code - 1] != purpose:
        return None
    values = (None, purpose, subscriber_id, list_id or None, None, None, None, None)
    return dict(zip(COLUMNS, values, strict=True))


def lookup_token(
    db: Database, purpose: str, token: str, secret_key: str | Sequence[str] = ""
) -> dict | None:
    """The token's row (subscriber_id, list_id, ...) if it is valid for `purpose`: known,
    same purpose, not expired, not used. None otherwise, whatever the reason. With
    `secret_key` (one key, or several: `Settings.verification_keys`), a signed unsubscribe or
    preferences token (see the module docstring) is accepted too; its dict has `id` None."""
    _check_purpose(purpose)
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    keys = (secret_key,) if isinstance(secret_key, str) else tuple(secret_key)
    keys = tuple(k for k in keys if k)
    if keys and purpose in SIGNED_PURPOSES and len(token) == SIGNED_LENGTH:
        found = _lookup_signed(db, purpose, token, keys)
        if found is not None:
            return found
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
