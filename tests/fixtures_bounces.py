"""Fixtures for the bounce tests: an issue really sent (with VERP) to the aiosmtpd sink, report
samples filled in for one of its messages, and a real Dovecot IMAP server on 127.0.0.1.

`dovecot_imap` starts Debian's dovecot with a throwaway configuration (passwd-file users, a
Maildir in a temporary folder, a free port on loopback, no system paths) and stops it after
the test. It skips only when the dovecot binary is missing (`.ci/run` installs dovecot-imapd).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import pytest

from mailer.config import Settings, load_settings
from tests.fixtures_send import Received, Sink, add_subscribers, free_port

SAMPLES = Path(__file__).resolve().parent / "bounce_samples"
BOUNCE_ADDRESS = "bounces@example.se"
LIST = "nyhetsbrev"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def sample(name: str, **values: str) -> bytes:
    """A report template from tests/bounce_samples with $recipient, $message_id and
    $return_path filled in."""
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return Template(text).substitute(values).encode("utf-8")


def with_settings(settings: Settings, **overrides) -> Settings:
    """A copy of `settings` with some fields changed (validated like any settings)."""
    import dataclasses

    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    values.update(overrides)
    return load_settings(values, env_file=None, environ={})


@dataclass
class Mailed:
    """An issue sent to `addresses` on LIST; `copies` maps each address to what the sink got."""

    settings: Settings
    addresses: list[str]
    copies: dict[str, Received] = field(default_factory=dict)
    issue: str = "2018-2"

    def report(self, name: str, address: str, **changes: str) -> bytes:
        """Sample `name` about the copy mailed to `address` (fields overridable)."""
        received = self.copies[address]
        values = {
            "recipient": address,
            "message_id": str(received.parsed()["Message-ID"]),
            "return_path": received.mail_from,
            **changes,
        }
        return sample(name, **values)


def send_issue(db, settings: Settings, sink: Sink, built_issue: Path, count: int, **extra):
    """Send the built example issue to `count` new subscribers on LIST through `sink`."""
    from mailer.delivery.send import run_send

    smtp = sink.settings(settings, **extra)
    addresses = add_subscribers(db, smtp, count, LIST)
    summary = run_send(smtp, built_issue)
    assert summary.sent == count, summary.line()
    copies = {item.rcpt: item for item in sink.handler.received}
    return Mailed(smtp, addresses, copies)


@pytest.fixture
def mailed(db, settings, mail_sink, built_example) -> Mailed:
    """The example issue sent with NEWSLETTER_BOUNCE_ADDRESS set to 4 people on LIST."""
    return send_issue(db, settings, mail_sink, built_example, 4, bounce_address=BOUNCE_ADDRESS)


# --- Dovecot -------------------------------------------------------------------------------------


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"

    def settings(self, base: Settings, **overrides) -> Settings:
        values = {
            "bounce_imap_host": self.host,
            "bounce_imap_port": self.port,
            "bounce_imap_username": self.user,
            "bounce_imap_password": self.password,
            "bounce_imap_folder": self.folder,
            "bounce_imap_security": "none",
            **overrides,
        }
        return with_settings(base, **values)

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, *messages: bytes) -> None:
        conn = self.connect()
        try:
            for raw in messages:
                typ, data = conn.append(self.folder, None, None, raw.replace(b"\n", b"\r\n"))
                assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self) -> dict[int, str]:
        """UID -> flags of every message in the folder (read-only look)."""
        conn = self.connect()
        try:
            conn.select(self.folder, readonly=True)
            _typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            result = {}
            for line in data:
                if isinstance(line, bytes) and b"UID" in line:
                    text = line.decode()
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    result[uid] = text.split("FLAGS (")[1].split(")")[0]
            return result
        finally:
            conn.logout()


def _dovecot_config(root: Path, mail_root: Path, port: int, uid: int, gid: int) -> str:
    user = pwd.getpwuid(os.getuid()).pw_name
    unprivileged = (
        ""
        if os.geteuid() == 0
        else (f"default_login_user = {user}\ndefault_internal_user = {user}\n")
    )
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{unprivileged}protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{mail_root}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
  default_fields = uid={uid} gid={gid} home={mail_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"""


@pytest.fixture
def dovecot_imap():
    """A real Dovecot IMAP server on 127.0.0.1 with one user and an empty INBOX."""
    if not os.path.exists(DOVECOT):
        pytest.skip(f"dovecot not found at {DOVECOT}; .ci/run installs it (dovecot-imapd)")
    # not under pytest's tmp_path: its folders are private to us, and as root Dovecot
    # switches to an unprivileged uid (it refuses uid 0) that must reach the Maildir
    root = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    mail_root = root / "mail"
    mail_root.mkdir()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
        root.chmod(0o755)
        os.chown(mail_root, uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
    server = ImapServer("127.0.0.1", free_port(), "bounces", "imap-test-password")
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.password}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(root, mail_root, server.port, uid, gid))
    output = (root / "dovecot.out").open("wb")
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=output, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                server.connect().logout()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    logs = [root / "dovecot.out", root / "dovecot.log"]
                    text = "".join(p.read_text() for p in logs if p.exists())
                    pytest.fail(f"dovecot did not start on port {server.port}: {text}")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        output.close()
        shutil.rmtree(root, ignore_errors=True)
