"""Secret keys over time: fingerprints, which keys the suppression list needs, rotation advice.

The suppression list holds keyed hashes (HMAC) of erased addresses. A hash made with one key
cannot be recomputed with another (that would need the address), so every key that ever wrote
a row stays needed for as long as the row exists. Each row stores the fingerprint of its key
(an HMAC of a fixed text under the key: it names the key without revealing it). Before the
list is consulted, `require_cover` checks that the current key and NEWSLETTER_SECRET_KEY_PREVIOUS
cover every fingerprint in use; otherwise the command refuses (the web sign-up answers 503),
so editing `.env` can never let an erased person back in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlite_utils import Database

from ..config import Settings
from ..errors import ConfigError
from ..store.db import transaction

FINGERPRINT_LENGTH = 16  # hex characters (64 bits): tells keys apart, reveals nothing


class SecretKeyMissing(ConfigError):
    """The suppression list (or the erasure journal) was written with a key not configured."""


def fingerprint(key: str) -> str:
    """A short, stable name of a key that does not reveal it."""
    digest = hmac.new(key.encode("utf-8"), b"newsletter-key-fingerprint", hashlib.sha256)
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def known_keys(settings: Settings) -> dict[str, str]:
    """fingerprint -> key for the current key and every declared previous key."""
    return {fingerprint(key): key for key in settings.verification_keys}


def adopt_legacy_rows(db: Database, settings: Settings) -> None:
    """Rows written before fingerprints existed were made with the key in use then: take the
    current key as that key (the only one known when the database is first opened with it)."""
    if db.execute("SELECT 1 FROM suppressions WHERE key_fingerprint IS NULL LIMIT 1").fetchone():
        with transaction(db):
            db.execute(
                "UPDATE suppressions SET key_fingerprint = ? WHERE key_fingerprint IS NULL",
                [fingerprint(settings.require_secret_key())],
            )


def fingerprints_in_use(db: Database) -> dict[str, int]:
    """fingerprint -> number of suppression rows made with that key."""
    rows = db.execute(
        "SELECT key_fingerprint, count(*) FROM suppressions WHERE key_fingerprint IS NOT NULL "
        "GROUP BY key_fingerprint"
    )
    return dict(rows.fetchall())


def missing_fingerprints(
    db: Database, settings: Settings, used: set[str] | None = None
) -> list[str]:
    """Fingerprints the suppression list (or `used`) needs that no configured key has.
    `suppression_keys` answers at once; only a fingerprint missing there is confirmed by
    counting rows (its rows may all have been deleted since)."""
    known = set(known_keys(settings))
    if used is None:
        listed = {r[0] for r in db.execute("SELECT fingerprint FROM suppression_keys")}
        if listed <= known:
            return []
        used = set(fingerprints_in_use(db))
    return sorted(used - known)


def missing_key_message(missing: list[str], what: str = "the suppression list") -> str:
    names = ", ".join(missing)
    return (
        f"{what} was written with a secret key that is not configured (fingerprint {names}); "
        "nothing was changed. Put the old key in NEWSLETTER_SECRET_KEY_PREVIOUS in .env (beside "
        "the new NEWSLETTER_SECRET_KEY) so erased people stay erased; `newsletter keys status` "
        "shows the fingerprints"
    )


def require_cover(db: Database, settings: Settings) -> dict[str, str]:
    """fingerprint -> key for every key the suppression list was written with, or
    SecretKeyMissing naming the fingerprints no configured key has."""
    settings.require_secret_key()
    adopt_legacy_rows(db, settings)
    missing = missing_fingerprints(db, settings)
    if missing:
        raise SecretKeyMissing(missing_key_message(missing))
    return known_keys(settings)


def status(db: Database, settings: Settings) -> list[dict]:
    """One row per key: fingerprint, role (current, previous, MISSING), suppression rows."""
    adopt_legacy_rows(db, settings)
    used = fingerprints_in_use(db)
    rows = []
    for index, (fp, _key) in enumerate(known_keys(settings).items()):
        role = "current" if index == 0 else "previous"
        rows.append({"fingerprint": fp, "role": role, "suppressions": used.get(fp, 0)})
    for fp in missing_fingerprints(db, settings):
        rows.append({"fingerprint": fp, "role": "MISSING", "suppressions": used[fp]})
    return rows


def new_key() -> str:
    return secrets.token_urlsafe(32)


def rotation_plan(settings: Settings, key: str | None = None) -> tuple[str, str]:
    """(new key, what to do): the .env lines and what to keep for how long."""
    key = key or new_key()
    old = [settings.require_secret_key(), *settings.previous_secret_keys]
    text = "\n".join(
        [
            "Put these two lines in .env (replacing the old ones), then restart `serve`:",
            "",
            f"NEWSLETTER_SECRET_KEY={key}",
            f"NEWSLETTER_SECRET_KEY_PREVIOUS={','.join(old)}",
            "",
            f"New key fingerprint {fingerprint(key)}; the old key ({fingerprint(old[0])}) moves "
            "to NEWSLETTER_SECRET_KEY_PREVIOUS.",
            "From now on everything new is signed with the new key. The old key only verifies:",
            "- unsubscribe and preferences links and bounce return paths (VERP) of issues "
            "already sent: keep it at least as long as those should work (a year is sensible);",
            "- the suppression list: erasures made so far are keyed hashes under the old key, "
            "and a hash cannot be moved to another key. Keep the old key in "
            "NEWSLETTER_SECRET_KEY_PREVIOUS for as long as `newsletter keys status` lists "
            "suppressions under it, in practice for good. If it is left out, import, add and "
            "sign-up refuse to run (the web sign-up answers 503) rather than let an erased "
            "person back in.",
            "Pending confirmation links are stored tokens and do not depend on the key.",
            "Keep a copy of the old key with your backups: a restored backup needs it too.",
        ]
    )
    return key, text
