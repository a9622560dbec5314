"""Fixtures for OAuth 2.0 sign-in: a stand-in identity provider and an SMTP server taking XOAUTH2.

`identity_provider` is a small HTTPS server on 127.0.0.1 (the test certificate) that answers as
Entra ID does for MSAL (OIDC metadata per tenant, the client-credentials token endpoint, its
AADSTS errors) and as Google's token endpoint does for google-auth (a service account's signed
JWT, checked against its public key, and a refresh token), plus a token introspection endpoint
for Dovecot. It remembers every token it issued and when it expires, and can revoke them.

`xoauth2_sink` is the aiosmtpd sink requiring STARTTLS and AUTH XOAUTH2, checking each user and
token with the identity provider: only the remote provider is a stand-in, SMTP is real.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from mailer.delivery import oauth2
from tests.fixtures_send import FaultyHandler, start_sink

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "stand-in-client-secret-value"
MAILBOX = "nyhetsbrev@example.se"
SERVICE_ACCOUNT = "newsletter@project.iam.gserviceaccount.com"
REFRESH_TOKEN = "stand-in-refresh-token"


@dataclass
class IdentityProvider:
    """What the stand-in knows and does; tests change the fields to make it refuse."""

    url: str = ""
    public_key: object = None  # the service account's key, to check signed JWTs
    lifetime: int = 3600  # expires_in of new tokens
    consent: bool = True  # False: AADSTS65001 (admin consent not granted)
    delegation: bool = True  # False: Google's unauthorized_client
    app_certificate: object = None  # the certificate uploaded to the app registration
    app_mailbox: str = ""  # the IMAP mailbox an app token may read (Dovecot's introspection)
    issued: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (who, expiry)
    requests: list[str] = field(default_factory=list)  # one entry per token issued or refused
    jwt_claims: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, who: str) -> dict:
        token = "tok-" + secrets.token_urlsafe(24)
        with self.lock:
            self.issued[token] = (who, time.time() + self.lifetime)
        return {"token_type": "Bearer", "expires_in": self.lifetime, "access_token": token}

    def valid(self, token: str) -> str | None:
        """Who the token was issued to, while it is live."""
        with self.lock:
            who, expiry = self.issued.get(token, ("", 0.0))
        return who if expiry > time.time() else None

    def revoke_all(self) -> None:
        with self.lock:
            self.issued.clear()

    def count(self, kind: str) -> int:
        return sum(1 for entry in self.requests if entry == kind)

    # --- Entra ID ---

    def openid_configuration(self, tenant: str) -> tuple[int, dict]:
        if tenant != TENANT:
            return 400, _aadsts(
                "invalid_tenant", 90002, f"Tenant '{tenant}' not found. Check to make sure..."
            )
        base = f"{self.url}/{tenant}"
        return 200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{base}/v2.0",
        }

    def microsoft_token(self, form: dict) -> tuple[int, dict]:
        self.requests.append("microsoft")
        if form.get("client_id") != CLIENT_ID:
            return 400, _aadsts(
                "unauthorized_client", 700016, "Application with identifier was not found."
            )
        if "client_assertion" in form:  # a certificate credential: a JWT signed with its key
            if not self.check_client_assertion(form["client_assertion"]):
                return 401, _aadsts("invalid_client", 700027, "Client assertion failed.")
        elif form.get("client_secret") != CLIENT_SECRET:
            return 401, _aadsts("invalid_client", 7000215, "Invalid client secret provided.")
        if form.get("scope") != oauth2.MICROSOFT_SCOPE or form.get("grant_type") != (
            "client_credentials"
        ):
            return 400, _aadsts("invalid_scope", 1002012, "The provided value is not valid.")
        if not self.consent:
            return 400, _aadsts(
                "invalid_grant", 65001, "The user or administrator has not consented."
            )
        return 200, self.issue(f"app:{CLIENT_ID}")

    def check_client_assertion(self, assertion: str) -> bool:
        """MSAL's client assertion: signed (PS256, or RS256 by older MSAL) with the key of the
        certificate uploaded to the app, issued by and for the app, for this token endpoint."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        if self.app_certificate is None:
            return False
        try:
            head, body, signature = assertion.split(".")
            header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
            scheme = (
                padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
                if header.get("alg") == "PS256"
                else padding.PKCS1v15()
            )
            self.app_certificate.public_key().verify(
                _unb64(signature), f"{head}.{body}".encode(), scheme, hashes.SHA256()
            )
        except (ValueError, InvalidSignature):
            return False
        return claims.get("iss") == claims.get("sub") == CLIENT_ID and claims.get(
            "aud", ""
        ).endswith("/oauth2/v2.0/token")

    # --- Google ---

    def google_token(self, form: dict) -> tuple[int, dict]:
        self.requests.append("google")
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") != REFRESH_TOKEN:
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
            return 200, self.issue(f"user:{MAILBOX}")
        claims = self.check_jwt(form.get("assertion", ""))
        if claims is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        self.jwt_claims.append(claims)
        if not self.delegation or claims.get("scope") != oauth2.GOOGLE_SCOPE:
            return 401, {
                "error": "unauthorized_client",
                "error_description": "Client is unauthorized to retrieve access tokens using "
                "this method, or client not authorized for any of the scopes requested.",
            }
        return 200, self.issue(f"user:{claims.get('sub')}")

    def check_jwt(self, assertion: str) -> dict | None:
        """The claims of an RS256 JWT signed by the service account's key, or None."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            head, body, signature = assertion.split(".")
            self.public_key.verify(
                _unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            claims = json.loads(_unb64(body))
        except (ValueError, InvalidSignature):
            return None
        # google-auth names Google's token endpoint as the audience wherever it posts
        if claims.get("iss") != SERVICE_ACCOUNT or claims.get("aud") != oauth2.GOOGLE_TOKEN_URI:
            return None
        return claims


def _aadsts(error: str, code: int, text: str) -> dict:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text} Trace ID: 0000 Correlation ID: 1111",
        "error_codes": [code],
    }


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Handler(BaseHTTPRequestHandler):
    provider: IdentityProvider

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            self._answer(*self.provider.openid_configuration(parts[0]))
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        path = self.path.split("?")[0]
        if path.endswith("/oauth2/v2.0/token"):
            self._answer(*self.provider.microsoft_token(form))
        elif path == "/google/token":
            self._answer(*self.provider.google_token(form))
        elif path == "/introspect":  # Dovecot's oauth2 passdb
            who = self.provider.valid(form.get("token", ""))
            user = who.split(":", 1)[1] if who and who.startswith("user:") else ""
            user = user or self.provider.app_mailbox  # an app may read the mailbox it was given
            self._answer(200, {"active": True, "username": user} if who else {"active": False})
        else:
            self._answer(404, {"error": "not_found"})


@pytest.fixture
def identity_provider(certificate, monkeypatch):
    """The stand-in identity provider on https://127.0.0.1:PORT; MSAL and google-auth (through
    requests) trust its certificate via REQUESTS_CA_BUNDLE."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider = IdentityProvider(public_key=key.public_key())
    provider.private_key = key
    handler = type("Handler", (_Handler,), {"provider": provider})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    provider.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    monkeypatch.setattr(oauth2, "_SOURCES", {})  # no token cached by an earlier test
    yield provider
    server.shutdown()
    server.server_close()


def service_account_file(provider: IdentityProvider, folder: Path) -> Path:
    """A Google service-account key file (a fresh RSA key) whose token_uri is the stand-in."""
    from cryptography.hazmat.primitives import serialization

    pem = provider.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = folder / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "newsletter-test",
                "private_key_id": "key-1",
                "private_key": pem,
                "client_email": SERVICE_ACCOUNT,
                "client_id": "123456789",
                "token_uri": f"{provider.url}/google/token",
            }
        )
    )
    return path


def authorized_user_file(provider: IdentityProvider, folder: Path) -> Path:
    """An installed app's refresh token (google-auth's authorized-user file)."""
    path = folder / "authorized-user.json"
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "installed-app.apps.googleusercontent.com",
                "client_secret": "installed-app-secret",
                "refresh_token": REFRESH_TOKEN,
                "token_uri": f"{provider.url}/google/token",
            }
        )
    )
    return path


def app_certificate_file(provider: IdentityProvider, folder: Path) -> Path:
    """A fresh key and self-signed certificate in one PEM file; the stand-in knows the
    certificate (as after uploading it to the app registration)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsletter")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    provider.app_certificate = cert
    path = folder / "newsletter-app.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


def microsoft_settings(provider: IdentityProvider | None) -> dict:
    return {
        "smtp_auth": "oauth2-microsoft",
        "smtp_username": MAILBOX,
        "smtp_oauth2_tenant": TENANT,
        "smtp_oauth2_client_id": CLIENT_ID,
        "smtp_oauth2_client_secret": CLIENT_SECRET,
        "smtp_oauth2_authority": provider.url if provider else "",
    }


@dataclass
class Xoauth2Handler(FaultyHandler):
    """The sink's handler, signing in with XOAUTH2 only: the user must be a mailbox the app may
    use and the token one the identity provider issued and has not expired or revoked."""

    provider: IdentityProvider | None = None
    mailboxes: tuple[str, ...] = (MAILBOX,)
    logins: list[str] = field(default_factory=list)  # user of each successful AUTH
    refusals: int = 0
    drop_after: int = 0  # drop the connection at the MAIL after this many messages (0: never)

    async def auth_XOAUTH2(self, server, args):
        raw = args[2] if len(args) > 2 else await server.challenge_auth("")
        if isinstance(raw, str):
            raw = base64.b64decode(raw)
        fields = dict(part.split("=", 1) for part in raw.decode().split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        if user in self.mailboxes and self.provider.valid(token):
            self.logins.append(user)
            return AuthResult(success=True, auth_data=user)
        self.refusals += 1
        error = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
        await server.challenge_auth(json.dumps(error))  # the client answers with an empty line
        return AuthResult(
            success=False, handled=False, message="535 5.7.3 Authentication unsuccessful"
        )

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self.drop_after and self.count() >= self.drop_after:
            self.drop_after = 0
            self.provider.revoke_all()  # the token expired while the session lasted
            server.transport.abort()  # the client sees the connection drop before MAIL's reply
            return "421 4.4.2 closing"
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


@pytest.fixture
def xoauth2_sink(identity_provider, certificate, monkeypatch):
    """aiosmtpd on 127.0.0.1 requiring STARTTLS (the test certificate, trusted by clients through
    SSL_CERT_FILE) and AUTH XOAUTH2 checked against `identity_provider`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    handler = Xoauth2Handler(provider=identity_provider)
    controller, sink = start_sink(
        handler,
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["LOGIN", "PLAIN"],
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    yield sink
    controller.stop()


# --- Dovecot taking XOAUTH2 ---------------------------------------------------------------------

DOVECOT_OAUTH2 = """\
introspection_url = {url}/introspect
introspection_mode = post
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = {ca}
"""


@pytest.fixture
def dovecot_xoauth2(identity_provider, certificate, monkeypatch, request):
    """The `dovecot_imap` server, also taking AUTHENTICATE XOAUTH2: Dovecot's own oauth2 passdb
    asks the stand-in's introspection endpoint about each token (an app token may read the
    `bounces` mailbox, as after Add-MailboxPermission)."""
    from tests import fixtures_bounces

    plain_config = fixtures_bounces._dovecot_config

    def with_oauth2(root, mail_root, server, uid, gid, certificate):
        extension, ca = root / "dovecot-oauth2.conf.ext", root / "ca.pem"
        ca.write_bytes(Path(certificate[0]).read_bytes())  # where Dovecot's auth user reads it
        ca.chmod(0o644)
        extension.write_text(DOVECOT_OAUTH2.format(url=identity_provider.url, ca=ca))
        text = plain_config(root, mail_root, server, uid, gid, certificate)
        # no delay after a refused token (the tests refuse some on purpose): no failure delay,
        # and loopback trusted, so Dovecot's per-address auth penalty does not apply
        text = text.replace(
            "auth_mechanisms = plain",
            "auth_mechanisms = plain xoauth2\nauth_failure_delay = 0\n"
            "login_trusted_networks = 127.0.0.1/32",
        )
        return text + (
            f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2\n  args = {extension}\n}}\n"
        )

    monkeypatch.setattr(fixtures_bounces, "_dovecot_config", with_oauth2)
    server = request.getfixturevalue("dovecot_imap")
    identity_provider.app_mailbox = server.user
    return server
