"""The web app's service-mail thread: runs the durable outbox (`delivery.service_worker`) while
the app serves, woken by each request that queued something and polling for the rest.

Requests write their sign-up or mail into the `service_mail` table in their own transaction
before answering, so nothing is lost when the server stops; this thread only sends. `serve`
starts it at once (resuming what waited before a restart); otherwise it starts with the first
request that queues something. With MAIL_IN_BACKGROUND off (tests) the request runs the outbox
itself after its transaction.
"""

from __future__ import annotations

import logging
import threading
import time

from ..config import Settings
from ..delivery import service_mail
from ..delivery.service_worker import ServiceMailWorker
from ..store.db import connect, utc_now

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0  # how often the thread looks for rows queued by other processes or now due


class Outbox:
    """One worker and (in the background) one daemon thread that runs it."""

    def __init__(
        self,
        settings: Settings,
        *,
        write_lock: threading.Lock,
        background: bool = True,
        retry_delays: tuple[float, ...] = service_mail.RETRY_DELAYS,
        poll_seconds: float = POLL_SECONDS,
        signer=None,
    ) -> None:
        self.settings = settings
        self.background = background
        self.poll_seconds = poll_seconds
        self.worker = ServiceMailWorker(
            settings, lock=lambda: write_lock, retry_delays=retry_delays, signer=signer
        )
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start the thread (once); waiting rows left by an earlier run are due at once."""
        with self._start_lock:
            if self._thread is not None:
                return
            self.worker.resume()
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Something was queued: send it now (in the thread, or here when not in background)."""
        if not self.background:
            self.worker.run_due()
            return
        self.start()
        self._idle.clear()
        self._wake.set()

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is due (tests and shutdown); True if that happened in time."""
        if not self.background or self._thread is None:
            return self._nothing_due()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._idle.clear()
            self._wake.set()
            idle = self._idle.wait(timeout=max(0.0, deadline - time.monotonic()))
            if idle and self._nothing_due():
                return True
        return False

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _nothing_due(self) -> bool:
        db = connect(self.settings.db_path)
        try:
            due = service_mail.next_due(db)
        finally:
            db.close()
        return due is None or due > utc_now()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.worker.run_due()
            except Exception as exc:  # the thread must live on; logged by type only
                log.error("the outbox could not run: %s", type(exc).__name__)
            self._idle.set()
            self._wake.wait(timeout=self._wait_seconds())
        self.worker.close()

    def _wait_seconds(self) -> float:
        """Until the next row is due, at most the poll interval."""
        try:
            due = service_mail.next_due(self.worker.db)
        except Exception:  # a busy database: look again at the next poll
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        wait = service_mail.seconds_until(due)
        return min(self.poll_seconds, max(0.05, wait))
