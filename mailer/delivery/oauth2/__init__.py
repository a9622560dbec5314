"""OAuth 2.0 access tokens for XOAUTH2 sign-in to SMTP and to the bounce mailbox's IMAP.

Microsoft 365 and Google Workspace refuse (or will soon refuse) passwords; they take a bearer
token instead. Three ways to get one: an Entra app's client-credentials flow through MSAL,
a Google service account with domain-wide delegation (or an installed app's refresh token)
through google-auth, or any command that prints a token (like msmtp's passwordeval).

Tokens live in memory only, shared by every connection of the process, reused until shortly
before they expire and then fetched anew; a server that refuses one gets one fresh token
(`TokenSource.refresh`). Tokens are never logged, printed or put in an error message. An
identity provider's refusal becomes one line with its error code and the setting to fix.
"""

from __future__ import annotations

import threading

from ...config import Settings
from ...errors import SignInError
from .base import GOOGLE_SCOPE, MICROSOFT_SCOPE, TokenSource, xoauth2
from .command import CommandSource
from .entra import MicrosoftSource
from .workspace import GOOGLE_TOKEN_URI, GoogleSource

_SOURCES: dict[tuple, TokenSource] = {}
_SOURCES_LOCK = threading.Lock()


def token_source(settings: Settings, side: str) -> TokenSource | None:
    """The token source for `side` ("SMTP" or "IMAP"), None when it signs in with a password.

    One source per mailbox and app in the process, so every connection (and a long send that
    reconnects) shares the cached token.
    """
    if side == "SMTP":
        mode, user = settings.smtp_auth, settings.smtp_username
        name, command = "SMTP_OAUTH2_TOKEN_COMMAND", settings.smtp_oauth2_token_command
        user_setting = "SMTP_USERNAME"
    else:
        mode, user = settings.bounce_imap_auth, settings.bounce_imap_username
        name, command = (
            "BOUNCE_IMAP_OAUTH2_TOKEN_COMMAND",
            settings.bounce_imap_oauth2_token_command,
        )
        user_setting = "BOUNCE_IMAP_USERNAME"
    if mode == "password":
        return None
    if not user:
        raise SignInError(f"{user_setting} not set: XOAUTH2 signs in as that mailbox address")
    key = (
        side,
        mode,
        user,
        command,
        settings.smtp_oauth2_tenant,
        settings.smtp_oauth2_client_id,
        settings.smtp_oauth2_client_secret,
        settings.smtp_oauth2_certificate,
        settings.smtp_oauth2_authority,
        settings.smtp_oauth2_credentials_file,
    )
    with _SOURCES_LOCK:
        source = _SOURCES.get(key)
        if source is None:
            if mode == "oauth2-microsoft":
                source = MicrosoftSource(settings, side, user)
            elif mode == "oauth2-google":
                source = GoogleSource(settings, side, user)
            else:
                source = CommandSource(settings, side, user, name, command)
            _SOURCES[key] = source
        return source


__all__ = [
    "GOOGLE_SCOPE",
    "GOOGLE_TOKEN_URI",
    "MICROSOFT_SCOPE",
    "SignInError",
    "TokenSource",
    "token_source",
    "xoauth2",
]
