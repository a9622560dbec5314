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

import json
import re
import subprocess
import threading
import time
from pathlib import Path

from ..config import MICROSOFT_AUTHORITY, Settings
from ..errors import SignInError

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address
COMMAND_TOKEN_SECONDS = 300.0  # a command's token is reused this long (its expiry is unknown)
COMMAND_TIMEOUT = 60.0
DOCS = "docs/oauth.md"

# Entra ID error codes (AADSTS...) -> what to fix
MICROSOFT_HINTS = {
    90002: "no such tenant: set SMTP_OAUTH2_TENANT to the Directory (tenant) ID or a domain",
    900023: "not a tenant ID: set SMTP_OAUTH2_TENANT to the Directory (tenant) ID or a domain",
    700016: "no such application in this tenant: check SMTP_OAUTH2_CLIENT_ID (the Application "
    "(client) ID) and SMTP_OAUTH2_TENANT",
    7000215: "wrong client secret: set SMTP_OAUTH2_CLIENT_SECRET to the secret's Value (not its "
    "Secret ID)",
    7000222: "the client secret has expired: add a new one under Certificates & secrets",
    700027: "the certificate is not the app's: upload SMTP_OAUTH2_CERTIFICATE's certificate "
    "under Certificates & secrets",
    65001: "admin consent not granted: in API permissions, Grant admin consent for "
    "SMTP.SendAsApp and IMAP.AccessAsApp",
    500011: "Office 365 Exchange Online is not in the tenant, or the app lacks its permission: "
    "add SMTP.SendAsApp / IMAP.AccessAsApp under API permissions",
    7000112: "the application is disabled in the tenant: enable it in Enterprise applications",
}
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


class MicrosoftSource(TokenSource):
    """Client credentials of an Entra app registration, through MSAL (which caches the token and
    fetches a new one five minutes before it expires)."""

    provider = "Microsoft 365"
    refusal_hint = (
        "Exchange does not let the app use this mailbox: check the Exchange service principal "
        "(New-ServicePrincipal), Add-MailboxPermission, and for SMTP that SMTP AUTH is "
        "enabled for the mailbox (Set-CASMailbox)"
    )

    def __init__(self, settings: Settings, side: str, user: str) -> None:
        super().__init__(settings, side, user)
        missing = [
            name
            for name, value in (
                ("SMTP_OAUTH2_TENANT", settings.smtp_oauth2_tenant),
                ("SMTP_OAUTH2_CLIENT_ID", settings.smtp_oauth2_client_id),
                (
                    "SMTP_OAUTH2_CLIENT_SECRET or SMTP_OAUTH2_CERTIFICATE",
                    settings.smtp_oauth2_client_secret or settings.smtp_oauth2_certificate,
                ),
            )
            if not value
        ]
        if missing:
            raise self.fail(f"{' and '.join(missing)} not set; see {DOCS}")
        self.app = None

    def _credential(self):
        settings = self.settings
        if settings.smtp_oauth2_client_secret:
            return settings.smtp_oauth2_client_secret
        path = Path(settings.smtp_oauth2_certificate)
        if path.suffix.lower() in (".pfx", ".p12"):
            return {"private_key_pfx_path": str(path)}
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeError) as exc:
            raise self.fail(f"SMTP_OAUTH2_CERTIFICATE {path} cannot be read ({exc})") from None
        key = re.search(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", text, re.S
        )
        cert = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
        if not key or not cert:
            raise self.fail(
                f"SMTP_OAUTH2_CERTIFICATE {path} must hold the private key and the certificate "
                "(PEM), or be a .pfx file"
            )
        return {"private_key": key.group(0), "public_certificate": cert.group(0)}

    def _application(self):
        import msal

        settings = self.settings
        authority = f"{settings.smtp_oauth2_authority.rstrip('/')}/{settings.smtp_oauth2_tenant}"
        try:
            return msal.ConfidentialClientApplication(
                settings.smtp_oauth2_client_id,
                client_credential=self._credential(),
                authority=authority,
                # another authority (a sovereign cloud, a test's stand-in) is taken as given
                instance_discovery=None if authority.startswith(MICROSOFT_AUTHORITY) else False,
            )
        except ValueError as exc:  # the tenant discovery failed: the tenant's answer is inside
            raise self.fail(_microsoft_discovery_error(exc, authority)) from None
        except OSError as exc:
            raise self.fail(f"cannot reach {authority}: {_one_line(exc)}") from None

    def _token(self, fresh: bool) -> str:
        if self.app is None:
            self.app = self._application()
        if fresh:  # forget the refused token, so MSAL asks for a new one
            cache = self.app.token_cache
            for entry in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(entry)
        try:
            result = self.app.acquire_token_for_client(scopes=[MICROSOFT_SCOPE])
        except (OSError, ValueError) as exc:
            raise self.fail(f"the identity provider did not answer: {_one_line(exc)}") from None
        if result and result.get("access_token"):
            return result["access_token"]
        raise self.fail(microsoft_error(result or {}))


def microsoft_error(result: dict) -> str:
    """One line for an MSAL error result: the AADSTS code, the error and what to fix."""
    error = str(result.get("error") or "no token")
    description = str(result.get("error_description") or "")
    codes = result.get("error_codes") or [
        int(c) for c in re.findall(r"AADSTS(\d+)", description)[:1]
    ]
    code = int(codes[0]) if codes else None
    hint = MICROSOFT_HINTS.get(code) if code is not None else None
    if hint is None and error == "invalid_client":
        hint = "check SMTP_OAUTH2_CLIENT_ID and the client secret or certificate"
    said = _first_sentence(re.sub(r"^AADSTS\d+:\s*", "", description))
    head = f"AADSTS{code} ({error})" if code is not None else error
    return f"{head}: {said}; {hint or 'see ' + DOCS}" if said else f"{head}; {hint or DOCS}"


def _microsoft_discovery_error(exc: ValueError, authority: str) -> str:
    text = f"{exc} {exc.__context__ or ''}"
    match = re.search(r"\{.*\}", text, re.S)
    if match:
        try:
            return microsoft_error(json.loads(match.group(0)))
        except ValueError:
            pass
    code = re.search(r"AADSTS(\d+)", text)
    if code:
        return microsoft_error({"error": "invalid_tenant", "error_codes": [int(code.group(1))]})
    return f"{authority} is not an Entra ID authority; check SMTP_OAUTH2_TENANT"


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
                f"authorized-user file ({_one_line(exc)}); see {DOCS}"
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
                    f"Google's token endpoint did not answer: {_one_line(exc)}"
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
    said = _first_sentence(description)
    return f"{error}" + (f": {said}" if said else "") + f"; {hint or 'see ' + DOCS}"


class CommandSource(TokenSource):
    """A command (run by the shell) whose standard output is the access token."""

    provider = "Token command"

    def __init__(self, settings: Settings, side: str, user: str, name: str, command: str) -> None:
        super().__init__(settings, side, user)
        if not command:
            raise self.fail(f"{name} not set; see {DOCS}")
        self.name, self.command = name, command
        self.cached: tuple[str, float] | None = None

    def _token(self, fresh: bool) -> str:
        now = time.monotonic()
        if not fresh and self.cached and now - self.cached[1] < COMMAND_TOKEN_SECONDS:
            return self.cached[0]
        try:
            done = subprocess.run(  # noqa: S602 - the person's own command line, as msmtp runs it
                self.command,
                shell=True,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise self.fail(f"{self.name} did not finish within {COMMAND_TIMEOUT:g} s") from None
        except OSError as exc:
            raise self.fail(f"{self.name} cannot be run: {exc}") from None
        token = done.stdout.strip()
        if done.returncode != 0:
            said = _one_line(done.stderr) or "no message"
            raise self.fail(f"{self.name} exited with status {done.returncode}: {said}")
        if not token or any(ch.isspace() for ch in token):
            raise self.fail(f"{self.name} must print the access token alone on one line")
        self.cached = (token, now)
        return token


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


def _one_line(value, limit: int = 300) -> str:
    """A message on one line (a command's stderr: its last line), cut at `limit` characters."""
    lines = [line.strip() for line in str(value).splitlines() if line.strip()]
    text = lines[-1] if isinstance(value, str) and lines else " ".join(lines)
    cause = re.search(r"\[Errno -?\d+\] [^\"')]+|CERTIFICATE_VERIFY_FAILED[^\"')]*", text)
    return (cause.group(0) if cause else text)[:limit]  # requests' long chains: the cause


def _first_sentence(text: str) -> str:
    """`AADSTS90002: Tenant 'x' not found. Check ... Trace ID: ...` -> up to the first period."""
    text = " ".join(text.split())
    return re.split(r"(?<=[a-z0-9'\")])\. ", text, maxsplit=1)[0].rstrip(".")


__all__ = ["SignInError", "TokenSource", "token_source", "xoauth2"]
