"""Fixtures for the bounce tests: an issue really sent (with VERP) to the aiosmtpd sink, report
samples filled in for one of its messages, and a real Dovecot IMAP server on 127.0.0.1.

`dovecot_imap` starts Debian's dovecot with a throwaway configuration (passwd-file users, a
Maildir in a temporary folder, a free port on loopback, no system paths) and stops it after
the test. It skips only when the dovecot binary is missing (`.ci/run` installs dovecot-imapd).
"""

from __future__ import annotations

import grp
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
from tests.fixtures_web import stop_process

SAMPLES = Path(__file__).resolve().parent / "bounce_samples"
CORPUS = Path(__file__).resolve().parent / "bounce_corpus"
BOUNCE_ADDRESS = "bounces@example.se"
LIST = "nyhetsbrev"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def sample(name: str, **values: str) -> bytes:
    """A report template from tests/bounce_samples with $recipient, $message_id and
    $return_path filled in."""
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return Template(text).substitute(values).encode("utf-8")


def corpus(name: str, r1: str, r2: str = "", r3: str = "", **values: str) -> bytes:
    """A report from tests/bounce_corpus about up to three recipients ($r1, $r2, $r3;
    $R1_UPPER is $r1 in capitals, as Exchange writes it)."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    values = {"message_id": "<none@example.se>", "return_path": BOUNCE_ADDRESS, **values}
    filled = dict(r1=r1, r2=r2 or "nobody2@example.net", r3=r3 or "nobody3@example.net")
    return Template(text).substitute(filled, R1_UPPER=r1.upper(), **values).encode("utf-8")


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
    port: int  # plain IMAP, STARTTLS offered
    ssl_port: int  # IMAP over TLS
    user: str
    password: str
    certificate: tuple[Path, Path] | None = None
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


def _dovecot_config(
    root: Path, mail_root: Path, server: ImapServer, uid: int, gid: int, certificate
) -> str:
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    unprivileged = ""  # as root Dovecot drops to its own users; as anyone else, run as them
    if os.geteuid() != 0:
        unprivileged = (
            f"default_login_user = {user}\ndefault_internal_user = {user}\n"
            f"default_internal_group = {group}\n"
            "service anvil {\n  chroot =\n}\n"
            f"service auth-worker {{\n  user = {user}\n}}\n"
            "service imap-login {\n  chroot =\n}\n"
        )
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{unprivileged}protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{certificate[0]}
ssl_key = <{certificate[1]}
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
    port = {server.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {server.ssl_port}
    ssl = yes
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
def dovecot_imap(certificate):
    """A real Dovecot IMAP server on 127.0.0.1 with one user and an empty INBOX: plain IMAP
    with STARTTLS on `port`, IMAP over TLS on `ssl_port` (the test certificate)."""
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
    server = ImapServer(
        "127.0.0.1", free_port(), free_port(), "bounces", "imap-test-password", certificate
    )
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.password}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(root, mail_root, server, uid, gid, certificate))
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
        stop_process(process)
        output.close()
        shutil.rmtree(root, ignore_errors=True)


# --- Postfix ---------------------------------------------------------------------------------

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTFIX_DOMAIN = "postfix.example.org"  # Postfix delivers this domain locally: unknown users bounce

POSTFIX_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{domain}
mydomain = {domain}
myorigin = $myhostname
mydestination = {domain}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{relay_port}
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_reject_unlisted_recipient = no
local_recipient_maps =
alias_maps =
alias_database =
maillog_file_prefixes = {root}
maillog_file = {root}/postfix.log
biff = no
smtputf8_enable = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
"""

# only the services a loopback relay needs; smtpd on the test's port
POSTFIX_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


@dataclass
class PostfixServer:
    port: int
    root: Path

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text() if path.exists() else ""


def _postfix(root: Path, command: str) -> subprocess.CompletedProcess:
    # Postfix reports to syslog unless stderr is a terminal; its own log file holds the rest
    return subprocess.run(
        [POSTFIX, "-c", str(root / "conf"), command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def postfix_relay(mail_sink):
    """A real Postfix on 127.0.0.1 with a throwaway configuration and queue: it accepts mail
    for anyone, delivers POSTFIX_DOMAIN locally (so an unknown user bounces with a real DSN)
    and relays everything else, those DSNs included, to `mail_sink`."""
    if not os.path.exists(POSTFIX):
        pytest.skip(f"postfix not found at {POSTFIX}; .ci/run installs it (postfix)")
    if os.geteuid() != 0:
        pytest.skip("Postfix's master process must be started as root; run the tests as root")
    root = Path(tempfile.mkdtemp(prefix="newsletter-postfix-"))
    root.chmod(0o755)  # the postfix user must reach its queue
    (root / "conf").mkdir()
    (root / "queue").mkdir()
    (root / "data").mkdir()
    owner = pwd.getpwnam("postfix")
    os.chown(root / "data", owner.pw_uid, owner.pw_gid)
    server = PostfixServer(free_port(), root)
    (root / "conf" / "main.cf").write_text(
        POSTFIX_MAIN.format(root=root, domain=POSTFIX_DOMAIN, relay_port=mail_sink.port)
    )
    (root / "conf" / "master.cf").write_text(POSTFIX_MASTER.format(port=server.port))
    try:
        started = _postfix(root, "start")
        deadline = time.monotonic() + 20
        while True:
            try:
                import socket

                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"postfix did not start: {started.stderr}{server.log()}")
                time.sleep(0.2)
        yield server
    finally:
        pid_file = root / "queue" / "pid" / "master.pid"
        master = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        _postfix(root, "stop")
        deadline = time.monotonic() + 15
        while master and _alive(master) and time.monotonic() < deadline:
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def postfix_settings(settings: Settings, relay) -> Settings:
    """`settings` sending through the real Postfix `postfix_relay` with VERP on."""
    return with_settings(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=relay.port,
        smtp_security="none",
        smtp_timeout=10,
        bounce_address=BOUNCE_ADDRESS,
    )
