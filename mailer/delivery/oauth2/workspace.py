"""Google Workspace: a service account with domain-wide delegation, or an installed app's
refresh token, through google-auth."""

from __future__ import annotations

import json
from pathlib import Path

from ...config import Settings
from .base import DOCS, GOOGLE_SCOPE, TokenSource, first_sentence, one_line

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address
# Google's token endpoint errors -> what to fix
GOOGLE_HINTS = {
    "unauthorized_client": "domain-wide delegation is missing: in the Admin console (Security > "
    "API controls > Domain-wide delegation) add the service account's client ID with the "
    f"scope {GOOGLE_SCOPE}",
    "invalid_client": "the client or key is not known to Google: check "
    "SMTP_OAUTH2_CREDENTIALS_FILE (a deleted key, or a disabled service account)",
    "access_denied": f"the account may not use the scope {GOOGLE_SCOPE}",
    "invalid_scope": f"the scope {GOOGLE_SCOPE} is not allowed for this client",
}


class GoogleSource(TokenSource):
    """A service account acting as the mailbox user (domain-wide delegation), or an installed
    app's refresh token, through google-auth; a token is renewed before it expires."""

    provider = "Google"
    refusal_hint = (
        f"check that the user name is the mailbox and that its delegation grants {GOOGLE_SCOPE}"
    )

    def __init__(self, settings: Settings, side: str, user: str) -> None:
        super().__init__(settings, side, user)
        path = settings.smtp_oauth2_credentials_file
        if not path:
            raise self.fail(f"SMTP_OAUTH2_CREDENTIALS_FILE not set; see {DOCS}")
        try:
            info = json.loads(Path(path).read_text(encoding="utf-8"))
            kind = info.get("type")
        except (OSError, ValueError, AttributeError) as exc:
            raise self.fail(
                f"SMTP_OAUTH2_CREDENTIALS_FILE {path}: not readable JSON ({exc})"
            ) from None
        try:
            if kind == "service_account":
                from google.oauth2 import service_account

                self.credentials = service_account.Credentials.from_service_account_info(
                    info, scopes=[GOOGLE_SCOPE], subject=user
                )
            elif kind == "authorized_user":
                from google.oauth2 import credentials

                # built by hand: from_authorized_user_info ignores the file's token_uri
                self.credentials = credentials.Credentials(
                    None,
                    refresh_token=info["refresh_token"],
                    client_id=info["client_id"],
                    client_secret=info["client_secret"],
                    token_uri=info.get("token_uri") or GOOGLE_TOKEN_URI,
                    scopes=[GOOGLE_SCOPE],
                )
            else:
                raise ValueError(f"its type is {kind!r}")
        except (ValueError, KeyError) as exc:
            raise self.fail(
                f"SMTP_OAUTH2_CREDENTIALS_FILE {path} is neither a service-account key nor an "
                f"authorized-user file ({one_line(exc)}); see {DOCS}"
            ) from None

    def _token(self, fresh: bool) -> str:
        from google.auth import exceptions
        from google.auth.transport.requests import Request

        if fresh or not self.credentials.valid:  # `valid` turns false minutes before expiry
            try:
                self.credentials.refresh(Request())
            except exceptions.RefreshError as exc:
                raise self.fail(google_error(exc)) from None
            except exceptions.TransportError as exc:
                raise self.fail(
                    f"Google's token endpoint did not answer: {one_line(exc)}"
                ) from None
        return self.credentials.token


def google_error(exc: Exception) -> str:
    """One line for a google-auth RefreshError: Google's error code and what to fix."""
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    error = str(data.get("error") or "")
    description = str(data.get("error_description") or "")
    if not error:
        error, _, description = str(exc.args[0] if exc.args else exc).partition(":")
    error, description = error.strip(), description.strip()
    hint = GOOGLE_HINTS.get(error)
    if error == "invalid_grant":
        if "email" in description.lower() or "user" in description.lower():
            hint = "the mailbox user is not in the Workspace domain: check the user name setting"
        elif "signature" in description.lower():
            hint = "Google does not know this key: make a new service-account key"
        else:
            hint = "the refresh token has expired or was revoked: make a new one (see docs)"
    said = first_sentence(description)
    return f"{error}" + (f": {said}" if said else "") + f"; {hint or 'see ' + DOCS}"
