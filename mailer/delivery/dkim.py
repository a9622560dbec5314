"""DKIM signing of outgoing messages with dkimpy, covering both unsubscribe headers.

dkimpy's default header list leaves out `List-Unsubscribe-Post`, and RFC 8058 requires the
signature to cover it and `List-Unsubscribe`, so the list is always given explicitly. Headers
named here but absent from a message (Reply-To when unset) are signed as absent, so nobody can
add them later without breaking the signature.
"""

from __future__ import annotations

import dkim as dkimpy

from ..config import Settings
from ..errors import ConfigError

SIGNED_HEADERS = (
    b"from",
    b"reply-to",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)
_PROBE = (
    b"From: probe@example.org\r\nTo: probe@example.org\r\nSubject: probe\r\n"
    b"List-Unsubscribe: <https://example.org/u>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nprobe\r\n"
)


class DkimSigner:
    """Signs with relaxed/relaxed canonicalisation (survives header re-folding by relays)."""

    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.private_key = private_key
        try:
            self.sign(_PROBE)
        except (dkimpy.DKIMException, ValueError) as exc:  # a garbled PEM: binascii.Error
            raise ConfigError(f"DKIM_PRIVATE_KEY cannot sign: {exc}") from None

    def signature(self, message: bytes) -> bytes:
        """The `DKIM-Signature:` header line (CRLF-terminated) for `message`."""
        return dkimpy.sign(
            message,
            self.selector,
            self.domain,
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )

    def sign(self, message: bytes) -> bytes:
        """`message` with its DKIM-Signature header prepended."""
        return self.signature(message) + message


def signer_for(settings: Settings) -> DkimSigner | None:
    """A signer when DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY are all set, else None."""
    if not settings.dkim_enabled:
        return None
    return DkimSigner(settings.dkim_domain, settings.dkim_selector, settings.dkim_key_bytes())
