"""Where reports come from: .eml files, mbox files and Maildir folders, or an IMAP folder.

Nothing here changes a mailbox: files are only read, and the IMAP folder is opened read-only
(EXAMINE) and fetched with BODY.PEEK, so no flag is set and nothing is ever deleted. IMAP
progress is remembered instead (the folder's UIDVALIDITY and the highest UID read).
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient
from sqlite_utils import Database

from ...config import Settings
from ...errors import BounceError, SignInError
from ...store.db import utc_now
from .. import oauth2

IMAP_TIMEOUT = 60.0
FETCH_BATCH = 50


@dataclass
class Incoming:
    """One message to classify; `uid` is set for IMAP messages."""

    label: str
    raw: bytes
    uid: int | None = None


# --- files ------------------------------------------------------------------------------------


def count_files(paths: list[Path]) -> int:
    """How many messages `read_files` will yield (for the progress bar); also checks that
    every path can be read before anything is recorded."""
    total = 0
    for path in paths:
        kind = _kind(path)
        if kind == "eml":
            total += 1
            continue
        with _opened(path, kind) as box:
            total += len(_keys(box, path, kind))
    return total


def read_files(paths: list[Path]) -> Iterator[Incoming]:
    """Every message in the given .eml files, mbox files and Maildir folders, in order."""
    for path in paths:
        kind = _kind(path)
        if kind == "eml":
            yield Incoming(str(path), _read(path))
            continue
        with _opened(path, kind) as box:
            for number, key in enumerate(_keys(box, path, kind), start=1):
                try:
                    raw = box.get_bytes(key)
                except (OSError, KeyError) as exc:
                    raise BounceError(f"{path}: message {number} cannot be read ({exc})") from None
                yield Incoming(f"{path} #{number}", raw)


def _kind(path: Path) -> str:
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            return "maildir"
        raise BounceError(
            f"{path}: a folder, but not a Maildir (it has no cur/, new/ and tmp/); give the "
            "Maildir folder itself, or the .eml files in it"
        )
    if not path.is_file():
        raise BounceError(f"{path}: no such file or folder")
    head = _read(path, 5)
    return "mbox" if head.startswith(b"From ") else "eml"


@contextlib.contextmanager
def _opened(path: Path, kind: str) -> Iterator[mailbox.Mailbox]:
    """The mailbox, closed afterwards; it is only read (no lock taken, nothing flushed)."""
    try:
        if kind == "maildir":
            box = mailbox.Maildir(path, factory=None, create=False)
        else:
            box = mailbox.mbox(path, factory=None, create=False)
    except (OSError, mailbox.Error) as exc:
        raise BounceError(f"{path}: cannot open it as {kind} ({exc})") from None
    try:
        yield box
    finally:
        box.close()


def _keys(box: mailbox.Mailbox, path: Path, kind: str) -> list[str]:
    try:
        keys = list(box.iterkeys())
    except (OSError, mailbox.Error) as exc:
        raise BounceError(f"{path}: cannot read it as {kind} ({exc})") from None
    if kind == "maildir":  # Maildir keys come in no order; file names start with the time
        keys.sort()
    return keys


def _read(path: Path, size: int = -1) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise BounceError(f"{path}: cannot be read ({exc.strerror})") from None


# --- IMAP -------------------------------------------------------------------------------------


class ImapFolder:
    """One read-only session on BOUNCE_IMAP_FOLDER. Use as a context manager.

    IMAPClient (a maintained client) does the protocol: it parses the server's responses and
    sends folder names in modified UTF-7 (RFC 3501 5.1.3), so `Återsänt` works.
    """

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        if not settings.bounce_imap_host:
            raise BounceError(
                "BOUNCE_IMAP_HOST is not set; set BOUNCE_IMAP_HOST, BOUNCE_IMAP_USERNAME and "
                "BOUNCE_IMAP_PASSWORD in .env (or use `newsletter bounces import FILE...`)"
            )
        self.settings = settings
        self.address = f"{settings.bounce_imap_host}:{settings.bounce_imap_port}"
        self.folder = settings.bounce_imap_folder
        user = settings.bounce_imap_username
        self.mailbox = f"{user}@{self.address}/{self.folder}"
        self.ssl_context = ssl_context
        self.conn: IMAPClient | None = None
        self.uidvalidity = 0

    def __enter__(self) -> ImapFolder:
        try:
            self.connect()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def connect(self) -> None:
        """Connect, secure, log in and EXAMINE the folder; errors name host:port, never the
        password."""
        try:
            source = oauth2.token_source(self.settings, "IMAP")
        except SignInError as exc:
            raise BounceError(str(exc)) from None
        conn = self._open()
        if source is None:
            self._login(conn)
        elif self._sign_in(conn, source, source.token) is not None:
            # a refused token (expired, revoked): a fresh one, on a fresh connection (servers
            # slow down or drop a connection after a failed AUTHENTICATE)
            self.close()
            conn = self._open()
            refusal = self._sign_in(conn, source, source.refresh)
            if refusal is not None:
                raise BounceError(
                    f"IMAP sign-in (XOAUTH2) to {self.address} as {source.user} failed: "
                    f"{refusal}; the {source.provider} token was refused: "
                    f"{source.refusal_hint} (docs/oauth.md)"
                )
        try:
            selected = conn.select_folder(self.folder, readonly=True)  # EXAMINE
        except imaplib.IMAP4.error as exc:
            raise BounceError(
                f"IMAP server {self.address} has no folder {self.folder!r} ({_text(exc)}); "
                "check BOUNCE_IMAP_FOLDER"
            ) from None
        except OSError as exc:
            raise BounceError(f"IMAP server {self.address}: {_text(exc)}") from None
        self.uidvalidity = int(selected.get(b"UIDVALIDITY") or 0)

    def _open(self) -> IMAPClient:
        settings, context = self.settings, self.ssl_context or ssl.create_default_context()
        try:
            conn = self.conn = IMAPClient(
                settings.bounce_imap_host,
                settings.bounce_imap_port,
                ssl=settings.bounce_imap_security == "ssl",
                ssl_context=context,
                timeout=IMAP_TIMEOUT,
            )
            if settings.bounce_imap_security == "starttls":
                conn.starttls(ssl_context=context)
        except (OSError, imaplib.IMAP4.error) as exc:
            self.close()
            raise BounceError(f"cannot connect to the IMAP server {self.address}: {exc}") from None
        return conn

    def _login(self, conn: IMAPClient) -> None:
        settings = self.settings
        try:
            conn.login(settings.bounce_imap_username, settings.bounce_imap_password)
        except imaplib.IMAP4.error as exc:
            raise BounceError(
                f"IMAP login to {self.address} as {settings.bounce_imap_username} failed: "
                f"{_text(exc)}; check BOUNCE_IMAP_USERNAME and BOUNCE_IMAP_PASSWORD"
            ) from None
        except OSError as exc:
            raise BounceError(f"IMAP server {self.address} dropped the login: {exc}") from None

    def _sign_in(self, conn: IMAPClient, source: oauth2.TokenSource, get_token) -> str | None:
        """AUTHENTICATE XOAUTH2; None when signed in, else the server's refusal."""
        try:
            token = get_token()
        except SignInError as exc:
            raise BounceError(str(exc)) from None
        try:
            conn.sasl_login("XOAUTH2", _Xoauth2(oauth2.xoauth2(source.user, token)))
        except imaplib.IMAP4.error as exc:
            return _text(exc) or "refused"
        except OSError as exc:
            raise BounceError(f"IMAP server {self.address} dropped the login: {exc}") from None
        return None

    def new_uids(self, after: int) -> list[int]:
        """UIDs above `after`, ascending (`UID n:*` also answers the last UID when none is
        higher, so the result is filtered)."""
        uids = self._call(self.conn.search, ["UID", f"{after + 1}:*"])
        return sorted(uid for uid in set(uids) if uid > after)

    def fetch(self, uids: list[int]) -> Iterator[Incoming]:
        """The messages with these UIDs, in batches, without setting \\Seen."""
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            found = self._call(self.conn.fetch, batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw = found.get(uid, {}).get(b"BODY[]")
                if raw is not None:
                    yield Incoming(f"{self.folder} UID {uid}", raw, uid)

    def _call(self, method, *args):
        try:
            return method(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise BounceError(f"IMAP server {self.address}: {_text(exc)}") from None

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.logout()  # no CLOSE: the folder is read-only, there is nothing to expunge
        except (OSError, imaplib.IMAP4.error):
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.shutdown()


class _Xoauth2:
    """SASL XOAUTH2 for IMAPClient: the token first; after a refusal the server sends a JSON
    challenge, answered with an empty line to get the final NO at once."""

    def __init__(self, response: str) -> None:
        self.response: str | None = response

    def __call__(self, challenge: bytes) -> bytes:
        response, self.response = self.response, None
        return response.encode() if response is not None else b""


def _text(value) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(v for v in value if isinstance(v, bytes)) or str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())


# --- IMAP progress ------------------------------------------------------------------------------


def last_uid(db: Database, mailbox_name: str, uidvalidity: int) -> int:
    """The highest UID already read in this folder, 0 when never read or renumbered."""
    row = db.execute(
        "SELECT uidvalidity, last_uid FROM bounce_mailboxes WHERE mailbox = ?", [mailbox_name]
    ).fetchone()
    if row is None or row[0] != uidvalidity:
        return 0
    return row[1]


def remember_uid(db: Database, mailbox_name: str, uidvalidity: int, uid: int) -> None:
    """Record that `uid` was read (inside the transaction that recorded its report)."""
    db.execute(
        "INSERT INTO bounce_mailboxes (mailbox, uidvalidity, last_uid, updated_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET "
        "uidvalidity = excluded.uidvalidity, last_uid = max(CASE WHEN "
        "bounce_mailboxes.uidvalidity = excluded.uidvalidity THEN bounce_mailboxes.last_uid "
        "ELSE 0 END, excluded.last_uid), updated_at = excluded.updated_at",
        [mailbox_name, uidvalidity, uid, utc_now()],
    )
