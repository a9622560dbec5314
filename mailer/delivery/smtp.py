"""SMTP transport: one reusable connection with TLS modes, login, reconnects and reply classes.

Only talks SMTP: no database, no message building. One recipient per transaction, so every
reply belongs to one ledger row. Errors name `host:port`. A connection is reused for many
messages; after a transaction that did not end in 250 the session is reset with RSET before
the next one (a completed DATA resets it on the server already, RFC 5321 4.1.1.4).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable

from ..config import Settings
from ..errors import SendError, SignInError
from . import oauth2
from .smtputf8 import deferral_reason, mail_options, needs_smtputf8

_ENHANCED = re.compile(r"([245]\.\d{1,3}\.\d{1,3})\b")


class SmtpReplyError(SendError):
    """The server answered a command with a non-success reply."""

    def __init__(self, address: str, stage: str, code: int, text: str) -> None:
        self.stage, self.code, self.reply = stage, code, f"{code} {text}".strip()
        super().__init__(f"{address} answered {stage.upper()} with {self.reply}")


class TemporaryFailure(SmtpReplyError):
    """4xx: try again later."""


class PermanentFailure(SmtpReplyError):
    """5xx: do not try again. `stage == "rcpt"` means the address itself was refused."""

    @property
    def hard_bounce(self) -> bool:
        """The address itself is bad: a 5xx to RCPT with an enhanced status of 5.1.x (no such
        mailbox or domain) or 5.2.1 (disabled), or a bare 550/551/553. Policy refusals (5.7.x:
        spam, blocklists) are not the reader's fault and do not end the subscription."""
        if self.stage != "rcpt":
            return False
        enhanced = _ENHANCED.match(self.reply[4:])
        if enhanced:
            status = enhanced.group(1)
            return status.startswith("5.1.") or status == "5.2.1"
        return self.code in (550, 551, 553)


class ConnectionLost(SendError):
    """The connection failed or dropped. `after_data` means the message may have arrived."""

    def __init__(self, message: str, *, after_data: bool = False, stage: str = "") -> None:
        super().__init__(message)
        self.after_data, self.stage = after_data, stage


class Withdrawn(SendError):
    """The last check before the final "." said no (the person left, the run lost its lock):
    the connection was dropped mid-message, so the server discards it (RFC 5321 4.1.1.4)."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"message to {address} withdrawn before the end of DATA: {reason}")
        self.reason = reason


class _FastData:
    """smtplib's DATA with dot-stuffing by `bytes.replace` instead of a multiline regex
    (the regex costs more than the rest of the transaction for a 40 KB message), and an
    optional last check between the body and the final "."."""

    def data(self, msg: bytes, before_end: Callable[[], str | None] | None = None):
        self.putcmd("data")
        code, repl = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, repl)
        stuffed = msg.replace(b"\r\n.", b"\r\n..")
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        if before_end is None:
            self.send(stuffed + b".\r\n")
        else:
            self.send(stuffed)
            reason = before_end()
            if reason:
                raise Withdrawn(f"{self._host}", reason)
            self.send(b".\r\n")
        return self.getreply()


class _SMTP(_FastData, smtplib.SMTP):
    pass


class _SMTP_SSL(_FastData, smtplib.SMTP_SSL):
    pass


def _reply(code: int, text: bytes | str) -> tuple[int, str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return code, " ".join(text.split())


class SmtpTransport:
    """One connection to the configured server, opened on demand and reopened after a drop."""

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.host, self.port = settings.smtp_host, settings.smtp_port
        self.address = f"{self.host}:{self.port}"
        self.ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None
        self._needs_reset = False
        self._smtputf8: bool | None = None

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def connect(self) -> None:
        """Open, secure and log in. Raises SendError naming host:port (never the password)."""
        self.close()
        settings = self.settings
        context = self.ssl_context
        if context is None and settings.smtp_security != "none":
            # made once per transport: loading the system's CA list costs ~0.4 s
            context = self.ssl_context = ssl.create_default_context()
        timeout = settings.smtp_timeout
        try:
            if settings.smtp_security == "ssl":
                conn = _SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
            else:
                conn = _SMTP(self.host, self.port, timeout=timeout)
            with contextlib.suppress(OSError, AttributeError):  # the final "." goes out at once
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if settings.smtp_security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise SendError(
                        f"SMTP server {self.address} does not offer STARTTLS; "
                        "use SMTP_SECURITY=ssl (port 465) or none (local relays only)"
                    )
                conn.starttls(context=context)
                conn.ehlo()
            try:
                source = oauth2.token_source(settings, "SMTP")
            except SignInError as exc:
                conn.close()
                raise SendError(str(exc)) from None
            if source is not None:
                self._sign_in(conn, source)
            elif settings.smtp_username:
                try:
                    conn.login(settings.smtp_username, settings.smtp_password)
                except smtplib.SMTPAuthenticationError as exc:
                    conn.close()
                    _, text = _reply(exc.smtp_code, exc.smtp_error)
                    raise SendError(
                        f"SMTP login to {self.address} as {settings.smtp_username} failed: "
                        f"{exc.smtp_code} {text}"
                    ) from None
        except SendError:
            raise
        except smtplib.SMTPNotSupportedError:
            raise SendError(
                f"SMTP server {self.address} does not support login; unset SMTP_USERNAME "
                "or use SMTP_SECURITY=starttls/ssl"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            unset = [
                name
                for name, field in (("SMTP_HOST", "smtp_host"), ("SMTP_PORT", "smtp_port"))
                if self.settings.sources.get(field, "default") == "default"
                and getattr(self.settings, field) == getattr(Settings, field)
            ]
            hint = (
                f" ({' and '.join(unset)} not set: that is the default; set "
                f"{'them' if len(unset) > 1 else 'it'} in .env)"
                if unset
                else ""
            )
            raise ConnectionLost(
                f"cannot connect to SMTP server {self.address}: {exc}{hint}"
            ) from None
        self._conn = conn
        self._needs_reset = False
        self._smtputf8 = bool(conn.has_extn("smtputf8"))

    def _sign_in(self, conn: smtplib.SMTP, source: oauth2.TokenSource) -> None:
        """AUTH XOAUTH2 with the cached token; a refused token (535: expired or revoked, e.g.
        when a long send reconnects) is replaced by a fresh one once."""
        if not conn.has_extn("auth"):
            conn.close()
            raise SendError(f"SMTP server {self.address} does not offer AUTH; see docs/oauth.md")
        code, text = 0, ""
        for fresh in (False, True):
            try:
                token = source.refresh() if fresh else source.token()
            except SignInError as exc:
                conn.close()
                raise SendError(str(exc)) from None
            raw = oauth2.xoauth2(source.user, token)
            try:  # after a refusal the server sends a JSON challenge; an empty line ends it
                code, text = conn.auth("XOAUTH2", lambda c=None, raw=raw: "" if c else raw)
                return
            except smtplib.SMTPAuthenticationError as exc:
                code, text = _reply(exc.smtp_code, exc.smtp_error)
                if not 500 <= code < 600:
                    break
        conn.close()
        raise SendError(
            f"SMTP sign-in (XOAUTH2) to {self.address} as {source.user} failed: {code} {text}; "
            f"the {source.provider} token was refused: {source.refusal_hint} (docs/oauth.md)"
        )

    def offers_smtputf8(self) -> bool:
        """Whether the server listed SMTPUTF8 in its last EHLO reply; remembered across
        reconnects, so the send loop can ask without any network I/O (it connects only if this
        transport never has)."""
        if self._smtputf8 is None:
            self.connect()
        return bool(self._smtputf8)

    def send(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        *,
        before_end: Callable[[], str | None] | None = None,
        after_mail: Callable[[], None] | None = None,
    ) -> str:
        """Deliver `data` (CRLF bytes) to one recipient; returns the final reply ("250 ...").

        Raises TemporaryFailure (4xx), PermanentFailure (5xx) or ConnectionLost. A reused
        connection that turns out closed before MAIL (servers drop idle sessions) is reopened
        once without counting as a failure. `before_end()` runs after the body is sent and
        before the final "."; a reason returned aborts the message (Withdrawn). `after_mail()`
        runs while the server answers MAIL FROM (work that may overlap the round trip).
        """
        if self._conn is not None:
            try:
                return self._transaction(sender, recipient, data, before_end, after_mail)
            except ConnectionLost as exc:
                if exc.after_data or exc.stage != "mail":
                    raise
        self.connect()
        return self._transaction(sender, recipient, data, before_end, after_mail)

    def _transaction(
        self, sender: str, recipient: str, data: bytes, before_end=None, after_mail=None
    ) -> str:
        conn = self._conn
        stage = "mail"
        try:
            if self._needs_reset:
                code, _ = conn.rset()
                if code != 250:
                    raise smtplib.SMTPServerDisconnected(f"RSET answered {code}")
                self._needs_reset = False
            options = f" SIZE={len(data)}" if conn.has_extn("size") else ""
            offered = bool(conn.has_extn("smtputf8"))
            if needs_smtputf8(sender, recipient) and not offered:
                raise SendError(deferral_reason(recipient, [self]) or "")
            utf8 = mail_options(sender, recipient, offered)
            # RFC 6531: SMTPUTF8 on MAIL FROM, and the commands go out as UTF-8
            conn.command_encoding = "utf-8" if utf8 else "ascii"
            options += "".join(f" {option}" for option in utf8)
            conn.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}{options}")
            if after_mail is not None:
                after_mail()
            self._check(stage, *conn.getreply())
            stage = "rcpt"
            self._check(stage, *conn.rcpt(recipient))
            stage = "data"
            code, text = conn.data(data, before_end)
            stage = "done"
            self._check("data", code, text)
            return "{} {}".format(*_reply(code, text)).strip()
        except Withdrawn:
            self._abort()
            raise
        except (SmtpReplyError, SendError):
            raise
        except smtplib.SMTPDataError as exc:  # DATA itself refused (not 354)
            self._needs_reset = True
            self._check("data", exc.smtp_code, exc.smtp_error)
            raise  # pragma: no cover - _check always raises for non-354 codes
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise ConnectionLost(
                f"connection to {self.address} lost during {stage.upper()}: "
                f"{exc or type(exc).__name__}",
                after_data=stage in ("data", "done"),
                stage=stage,
            ) from None

    def _check(self, stage: str, code: int, text: bytes | str) -> None:
        if 200 <= code < 300:
            return
        code, reply = _reply(code, text)
        if code == 421 or code < 400:
            self.close()  # 421: the server is closing the connection
        else:
            self._needs_reset = True
        cls = PermanentFailure if 500 <= code < 600 else TemporaryFailure
        raise cls(self.address, stage, code, reply)

    def _abort(self) -> None:
        """Drop the connection without QUIT (inside DATA, QUIT would be message text)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            with contextlib.suppress(OSError):
                conn.close()


__all__ = [
    "ConnectionLost",
    "PermanentFailure",
    "SmtpTransport",
    "TemporaryFailure",
    "Withdrawn",
]
