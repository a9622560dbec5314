"""The VERP return path: `bounces+TOKEN@domain` per message, and reading tokens back.

The token names the ledger row (its id) and carries an HMAC over that id under the secret
key, so a report can be tied to exactly one message without the address appearing in it, and
a forged report cannot name a row it has not seen. Tokens are lower-case because some servers
lower-case the local part of the address they return mail to.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Sequence

from ...config import Settings

MAC_LENGTH = 16  # hex characters: 64 bits
TOKEN = re.compile(rf"(\d{{1,18}})-([0-9a-f]{{{MAC_LENGTH}}})")


def _mac(secret_key: str, row_id: int) -> str:
    digest = hmac.new(secret_key.encode(), f"verp\0{row_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:MAC_LENGTH]


def make_token(secret_key: str, row_id: int) -> str:
    return f"{row_id}-{_mac(secret_key, row_id)}"


def verify_token(secret_key: str, token: str, *, previous: Sequence[str] = ()) -> int | None:
    """The ledger row id a token names, or None when it is malformed or its MAC is wrong
    (compared in constant time) under the key and each of the `previous` keys (tokens of
    messages sent before a key rotation)."""
    match = TOKEN.fullmatch(token.strip().lower())
    if match is None:
        return None
    row_id = int(match.group(1))
    keys = [secret_key, *(k for k in previous if k and k != secret_key)]
    if not any([hmac.compare_digest(_mac(k, row_id), match.group(2)) for k in keys]):
        return None
    return row_id


def envelope_sender(settings: Settings, row_id: int) -> str:
    """`bounces+TOKEN@domain` for ledger row `row_id` (NEWSLETTER_BOUNCE_ADDRESS must be set)."""
    local, _, domain = settings.bounce_address.rpartition("@")
    return f"{local}+{make_token(settings.require_secret_key(), row_id)}@{domain}"


def return_path_for(settings: Settings) -> Callable[[int], str] | None:
    """What the send engine calls per ledger row to get its envelope sender, or None when
    NEWSLETTER_BOUNCE_ADDRESS is not set (the From address is the envelope sender then)."""
    if not settings.bounce_address:
        return None
    return lambda row_id: envelope_sender(settings, row_id)


def token_pattern(settings: Settings) -> re.Pattern[str] | None:
    """Matches `bounces+ANYTHING@domain` (the part after + in group 1) anywhere in a text."""
    if not settings.bounce_address:
        return None
    local, _, domain = settings.bounce_address.rpartition("@")
    return re.compile(
        rf"(?<![\w.+-]){re.escape(local)}\+([0-9A-Za-z-]+)@{re.escape(domain)}", re.IGNORECASE
    )


def find_tokens(settings: Settings, texts: Iterable[str]) -> list[str]:
    """Every token-like local part addressed to the bounce address, in order of appearance."""
    pattern = token_pattern(settings)
    found: list[str] = []
    if pattern is None:
        return found
    for text in texts:
        for match in pattern.finditer(text):
            token = match.group(1).lower()
            if token not in found:
                found.append(token)
    return found
