"""What every token source shares: the XOAUTH2 string, the locked token cache, one-line errors."""

from __future__ import annotations

import re
import threading

from ...config import Settings
from ...errors import SignInError

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
DOCS = "docs/oauth.md"


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


class TokenSource:
    """Where the access tokens for one mailbox come from; thread-safe."""

    provider = ""
    # what to check when the mail server refuses a token the provider gave
    refusal_hint = "the token is not valid for this mailbox on this server"

    def __init__(self, settings: Settings, side: str, user: str) -> None:
        self.settings, self.side, self.user = settings, side, user
        self.lock = threading.Lock()

    def token(self) -> str:
        """A token valid for a while yet (the cached one, or a fresh one)."""
        with self.lock:
            return self._token(fresh=False)

    def refresh(self) -> str:
        """A new token, after a server refused the cached one."""
        with self.lock:
            return self._token(fresh=True)

    def _token(self, fresh: bool) -> str:
        raise NotImplementedError

    def fail(self, text: str) -> SignInError:
        return SignInError(f"{self.provider} sign-in for {self.side} as {self.user} failed: {text}")


def one_line(value, limit: int = 300) -> str:
    """A message on one line (a command's stderr: its last line), cut at `limit` characters."""
    lines = [line.strip() for line in str(value).splitlines() if line.strip()]
    text = lines[-1] if isinstance(value, str) and lines else " ".join(lines)
    cause = re.search(r"\[Errno -?\d+\] [^\"')]+|CERTIFICATE_VERIFY_FAILED[^\"')]*", text)
    return (cause.group(0) if cause else text)[:limit]  # requests' long chains: the cause


def first_sentence(text: str) -> str:
    """`AADSTS90002: Tenant 'x' not found. Check ... Trace ID: ...` -> up to the first period."""
    text = " ".join(text.split())
    return re.split(r"(?<=[a-z0-9'\")])\. ", text, maxsplit=1)[0].rstrip(".")
