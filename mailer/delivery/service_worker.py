"""The service-mail worker: takes due outbox rows, makes queued sign-ups, sends mails through the
one SMTP transport (`smtp.SmtpTransport`), and records each answer.

4xx replies and dropped connections are retried with back-off; only a 5xx fails a mail, with
the server's reply kept. Logs name the kind of mail and the reply code, never an address.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parseaddr

from sqlite_utils import Database

from ..audience.optin import start_subscription
from ..config import Settings
from ..errors import ConfigError, MailerError, SubscriberError
from ..store.db import connect, open_db, transaction, utc_now
from . import service_mail
from .dkim import signer_for
from .smtp import ConnectionLost, PermanentFailure, SmtpTransport, TemporaryFailure

log = logging.getLogger(__name__)
FROM_SETTINGS = object()  # signer: the DKIM key from the settings, if any


class ServiceMailWorker:
    """Sends what is due, on one connection kept open while there is work.

    `lock` (a context manager) is held around each database write: the web app passes its own
    write lock so request threads are not left polling SQLite's busy handler.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        lock: Callable[[], contextlib.AbstractContextManager] | None = None,
        retry_delays: tuple[float, ...] = service_mail.RETRY_DELAYS,
        signer=FROM_SETTINGS,
        transport: SmtpTransport | None = None,
    ) -> None:
        self.settings = settings
        self.lock = lock or contextlib.nullcontext
        self.retry_delays = retry_delays
        self.signer = signer_for(settings) if signer is FROM_SETTINGS else signer
        self.transport = transport or SmtpTransport(settings)
        self.sender = parseaddr(settings.from_address)[1]
        self.holder = service_mail.owner()
        self._db: Database | None = None
        self._running = threading.Lock()

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = connect(self.settings.db_path)  # migrated by whoever started us
        return self._db

    def resume(self) -> int:
        """Make every waiting row due now (at start); returns how many wait."""
        with self.lock():
            return service_mail.resume(self.db, self.holder)

    def run_due(self, limit: int | None = None) -> int:
        """Handle every due row (at most `limit`); returns how many were handled. One pass at a
        time per worker; the connection is closed when nothing is left."""
        tried: list[int] = []  # a row retried soon is left for the next pass
        with self._running:
            try:
                while limit is None or len(tried) < limit:
                    if not service_mail.any_due(self.db, tried):
                        break  # a read: no write lock taken while there is nothing to do
                    with self.lock():
                        row = service_mail.claim_next(self.db, self.holder, tried)
                    if row is None:
                        break
                    tried.append(row.id)
                    self._handle(row)
            finally:
                self.transport.close()
        return len(tried)

    def close(self) -> None:
        self.transport.close()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _handle(self, row: service_mail.ServiceRow) -> None:
        try:
            if row.kind == "signup":
                self._sign_up(row)
            elif row.kind in ("welcome", "bounce_notice") and not self._still_subscribed(row):
                with self.lock():
                    service_mail.drop(self.db, row.id)
            else:
                self._send(row)
        except ConfigError as exc:  # NEWSLETTER_FROM unset: the row waits for a restart with it
            log.error("service mail %s #%s waits: %s", row.kind, row.id, exc)
        except Exception as exc:  # the row stays accounted for: due again after its claim
            log.error("service mail %s #%s: %s", row.kind, row.id, type(exc).__name__)

    def _sign_up(self, row: service_mail.ServiceRow) -> None:
        """Make the queued sign-up and queue its confirmation mail, in one transaction."""
        db = self.db
        with self.lock(), transaction(db):
            mails: list[EmailMessage] = []
            try:
                start_subscription(
                    db, self.settings, row.recipient, send_mail=mails.append, **row.request
                )
            except SubscriberError as exc:  # a list removed meanwhile: say so in stats
                service_mail.mark_failed(db, row.id, f"sign-up not made: {exc}")
                return
            for message in mails:
                address = message["To"].addresses[0].addr_spec
                subscriber = db.execute(
                    "SELECT id FROM subscribers WHERE email = ?", [address]
                ).fetchone()
                service_mail.queue_mail(
                    db,
                    "confirmation",
                    address,
                    message,
                    subscriber_id=subscriber[0],
                    expires_in=self.settings.confirm_ttl_hours * 3600,
                )
            service_mail.drop(db, row.id)

    def _still_subscribed(self, row: service_mail.ServiceRow) -> bool:
        found = self.db.execute(
            "SELECT 1 FROM subscriptions WHERE subscriber_id = ? AND list_id = ? "
            "AND status = 'active'",
            [row.subscriber_id, row.list_id],
        ).fetchone()
        return found is not None

    def _send(self, row: service_mail.ServiceRow) -> None:
        if row.expires is not None and row.expires <= utc_now():
            last = f"; last reply: {row.last_reply}" if row.last_reply else ""
            with self.lock():
                service_mail.mark_failed(
                    self.db, row.id, f"not sent: its link expired at {row.expires[:16]}Z{last}"
                )
            return
        data = self.signer.sign(row.message) if self.signer else row.message
        try:
            reply = self.transport.send(row.envelope_from or self.sender, row.recipient, data)
        except PermanentFailure as exc:
            log.error("service mail %s #%s failed: %s", row.kind, row.id, exc.code)
            with self.lock():
                service_mail.mark_failed(self.db, row.id, exc.reply)
            return
        except (TemporaryFailure, ConnectionLost, MailerError) as exc:
            code = getattr(exc, "code", type(exc).__name__)
            log.warning("service mail %s #%s deferred: %s", row.kind, row.id, code)
            with self.lock():
                service_mail.mark_retry(
                    self.db,
                    row.id,
                    getattr(exc, "reply", str(exc)),
                    row.attempts,
                    self.retry_delays,
                )
            return
        with self.lock():
            service_mail.mark_sent(self.db, row.id, reply)


def flush(settings: Settings) -> dict[str, int]:
    """Send every waiting service mail now, back-off or not (`newsletter outbox run`, after the
    relay is fixed); returns how many were tried and how many now wait or failed."""
    open_db(settings.db_path).close()  # migrated, so a fresh database has the table
    worker = ServiceMailWorker(settings)
    try:
        worker.resume()
        tried = worker.run_due()
        return {"tried": tried, **service_mail.counts(worker.db)}
    finally:
        worker.close()
