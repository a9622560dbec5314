"""Fixtures for the send tests: a real SMTP server (aiosmtpd on 127.0.0.1) that can misbehave.

`mail_sink` keeps every message it accepts and injects faults on request: a permanent reply
for some recipients, temporary replies (421 closes the connection, 451 does not) for the next
attempts to some recipients, or a dropped connection right after DATA (the message is kept,
the client never sees the 250: the duplicate window).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import shutil
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mailer.config import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURE_ISSUES = Path(__file__).resolve().parent / "fixtures" / "issues"
EXAMPLE_ISSUE = "2018-2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt: str
    data: bytes

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class FaultyHandler:
    """aiosmtpd handler: accepts mail, keeps it, and injects the faults it is told to."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # rcpt -> "550 ..." always
    refuse_sender: str = ""  # a 5xx answer to every MAIL FROM, e.g. a sender not allowed
    refuse_data: dict[str, str] = field(default_factory=dict)  # rcpt -> "554 ..." after DATA
    temporary: dict[str, list[str]] = field(default_factory=dict)  # rcpt -> next replies
    drop_after_data: dict[str, int] = field(default_factory=dict)  # rcpt -> times to drop
    lock: threading.Lock = field(default_factory=threading.Lock)
    rcpt_attempts: dict[str, int] = field(default_factory=dict)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
            if address in self.refuse:
                return self.refuse[address]
            replies = self.temporary.get(address)
            if replies:
                return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        refused = [self.refuse_data[r] for r in envelope.rcpt_tos if r in self.refuse_data]
        if refused:
            return refused[0]
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append(Received(envelope.mail_from, rcpt, envelope.content))
            drop = [r for r in envelope.rcpt_tos if self.drop_after_data.get(r, 0) > 0]
            for rcpt in drop:
                self.drop_after_data[rcpt] -= 1
        if drop:
            server.transport.abort()  # kept the message, the client never hears the 250
        return "250 2.0.0 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def copies(self) -> dict[str, int]:
        """Messages received per recipient."""
        with self.lock:
            result: dict[str, int] = {}
            for item in self.received:
                result[item.rcpt] = result.get(item.rcpt, 0) + 1
            return result

    def for_rcpt(self, address: str) -> list[Received]:
        with self.lock:
            return [item for item in self.received if item.rcpt == address]


@dataclass
class Sink:
    handler: FaultyHandler
    host: str
    port: int

    def settings(self, base: Settings, **overrides) -> Settings:
        """`base` pointed at this server, without TLS (loopback only)."""
        values = {
            "db_path": base.db_path,
            "secret_key": base.secret_key,
            "from_address": base.from_address,
            "base_url": base.base_url,
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_security": "none",
            "smtp_timeout": 10,
            **overrides,
        }
        return load_settings(values, env_file=None, environ={})


def start_sink(handler: FaultyHandler | None = None, **smtp_parameters) -> tuple[Controller, Sink]:
    handler = handler or FaultyHandler()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="sink.test", **smtp_parameters
    )
    controller.start()
    return controller, Sink(handler, "127.0.0.1", port)


@pytest.fixture
def mail_sink():
    """A running aiosmtpd server on 127.0.0.1 (stopped after the test)."""
    controller, sink = start_sink()
    yield sink
    controller.stop()


@pytest.fixture
def send_settings(settings, mail_sink) -> Settings:
    """The test settings, sending to `mail_sink`."""
    return mail_sink.settings(settings)


@pytest.fixture
def example_issue(tmp_path) -> Path:
    """A copy of the example issue (2018-2) in the test's folder, so builds never touch the repo."""
    source = FIXTURE_ISSUES / EXAMPLE_ISSUE
    target = tmp_path / "newsletters" / EXAMPLE_ISSUE
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("build"))
    copy_shared(tmp_path / "newsletters")
    return target


def copy_shared(newsletters: Path) -> None:
    """The files every issue shares (newsletter.yml, assets/) beside the copied issue."""
    for name in ("newsletter.yml", "assets"):
        source = FIXTURE_ISSUES / name
        if source.is_dir():
            shutil.copytree(source, newsletters / name)
        elif source.is_file():
            shutil.copyfile(source, newsletters / name)


@pytest.fixture(scope="session")
def built_example(tmp_path_factory) -> Path:
    """The example issue copied and built once per session; tests only read it (a send builds
    only when stale, and the settings' base URL is the same in every test)."""
    from mailer.compose.build import build_issue

    newsletters = tmp_path_factory.mktemp("built") / "newsletters"
    target = newsletters / EXAMPLE_ISSUE
    shutil.copytree(FIXTURE_ISSUES / EXAMPLE_ISSUE, target, ignore=shutil.ignore_patterns("build"))
    copy_shared(newsletters)
    settings = load_settings(
        {
            "secret_key": "test-secret-key-0123456789abcdef",
            "from_address": "Region Örebro län <nyhetsbrev@example.se>",
            "base_url": "https://news.example.se",
        },
        env_file=None,
        environ={},
    )
    build_issue(target, settings)
    return target


@pytest.fixture(scope="session")
def counted_build(tmp_path_factory):
    """The example issue built once with NEWSLETTER_CLICK_COUNTING=on: its newsletters folder
    (tests copy it before sending or serving it)."""
    from mailer.compose.build import build_issue

    newsletters = tmp_path_factory.mktemp("counted") / "newsletters"
    shutil.copytree(
        FIXTURE_ISSUES / EXAMPLE_ISSUE,
        newsletters / EXAMPLE_ISSUE,
        ignore=shutil.ignore_patterns("build"),
    )
    copy_shared(newsletters)
    settings = load_settings(
        {"base_url": "https://news.example.se", "click_counting": "on"}, env_file=None, environ={}
    )
    build_issue(newsletters / EXAMPLE_ISSUE, settings)
    return newsletters


@pytest.fixture(scope="session")
def dkim_keys() -> tuple[bytes, bytes]:
    """(private key PEM, DNS TXT record) for DKIM tests; verify with `dnsfunc` returning it."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def count_sessions(handler: FaultyHandler) -> list[str]:
    """Make the sink note every SMTP session (its EHLO); returns the list it fills."""
    sessions: list[str] = []

    async def handle_EHLO(server, session, envelope, hostname, responses):
        session.host_name = hostname
        sessions.append(hostname)
        return responses

    handler.handle_EHLO = handle_EHLO
    return sessions


def smtp_environment(settings: Settings, port: int) -> dict[str, str]:
    """The environment a `newsletter send` process needs to mail the sink on `port`."""
    return {
        "NEWSLETTER_SECRET_KEY": settings.secret_key,
        "NEWSLETTER_FROM": settings.from_address,
        "NEWSLETTER_BASE_URL": settings.base_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
    }


def add_subscribers(db, settings, count: int, list_name: str, *, domain="example.org"):
    """`count` active subscribers on `list_name` via the subscribers library; returns addresses."""
    from mailer.audience.roster import add_subscriber
    from mailer.store.db import transaction

    addresses = [f"reader{n:05d}@{domain}" for n in range(count)]
    with transaction(db):
        for n, address in enumerate(addresses):
            add_subscriber(db, settings, address, name=f"Läsare {n}", list_name=list_name)
    return addresses


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path). Servers in tests load
    it (the TLS SMTP sink, Dovecot); clients trust it through `client_context`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def client_context(certificate) -> ssl.SSLContext:
    """A client TLS context that trusts the test certificate (and nothing else)."""
    return ssl.create_default_context(cafile=str(certificate[0]))
