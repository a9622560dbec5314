"""Runs sign-ups and mails confirmation links in a background thread, so that the subscribe
page answers in the same time whatever the address's state: a new address costs database
writes and a message, an active one almost nothing, and that difference (milliseconds) would
tell a stranger who is subscribed.
"""

from __future__ import annotations

import email.policy
import logging
import queue
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parseaddr

from ..config import Settings
from ..delivery.dkim import signer_for

log = logging.getLogger(__name__)

SendMail = Callable[[EmailMessage], None]
Job = Callable[[], None]


def smtp_sender(settings: Settings) -> SendMail:
    """Send one message through the configured SMTP server (a fresh connection each time),
    DKIM-signed like the newsletters when DKIM is configured: an unsigned confirmation from a
    domain that signs its mail fails DMARC and lands in spam, and the sign-up never completes.
    A DKIM key that cannot sign stops the app at start, not at the first sign-up."""
    signer = signer_for(settings)
    sender = parseaddr(settings.from_address)[1]

    def send(message: EmailMessage) -> None:
        data = message.as_bytes(policy=email.policy.SMTP)
        if signer is not None:
            data = signer.sign(data)
        recipients = [address.addr_spec for address in message["To"].addresses]
        context = ssl.create_default_context()
        host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=context)
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password)
            client.sendmail(sender, recipients, data)

    return send


class Outbox:
    """A queue of jobs and one daemon thread that runs them; failures are logged, by type only
    (messages may hold an address)."""

    def __init__(self, settings: Settings, send: SendMail | None, *, background: bool = True):
        self._settings = settings
        self._send = send  # None: SMTP from settings, set up at the first message
        self._background = background
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=1000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job) -> None:
        """Run `job` in the background (or now, when the app runs with MAIL_IN_BACKGROUND off)."""
        if not self._background:
            self._run_one(job)
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            log.error("outbox full: a sign-up or confirmation message was dropped")

    def __call__(self, message: EmailMessage) -> None:
        """Queue `message` for sending."""
        self.submit(lambda: self.deliver(message))

    def deliver(self, message: EmailMessage) -> None:
        """Send `message` now, in this thread; a failure is logged, never shown."""
        try:
            if self._send is None:
                self._send = smtp_sender(self._settings)
            self._send(message)
        except Exception as exc:  # logged, never shown: the page answers the same either way
            log.error("could not send a confirmation message: %s", type(exc).__name__)

    def join(self) -> None:
        """Wait until every queued job has run (tests and shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                self._run_one(job)
            finally:
                self._queue.task_done()

    @staticmethod
    def _run_one(job: Job) -> None:
        try:
            job()
        except Exception as exc:  # the thread must live on; the message may hold an address
            log.error("a background sign-up failed: %s", type(exc).__name__)
