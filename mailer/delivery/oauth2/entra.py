"""Microsoft 365: the client-credentials flow of an Entra app registration, through MSAL."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ...config import MICROSOFT_AUTHORITY, Settings
from .base import DOCS, MICROSOFT_SCOPE, TokenSource, first_sentence, one_line

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
            raise self.fail(f"cannot reach {authority}: {one_line(exc)}") from None

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
            raise self.fail(f"the identity provider did not answer: {one_line(exc)}") from None
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
    said = first_sentence(re.sub(r"^AADSTS\d+:\s*", "", description))
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
