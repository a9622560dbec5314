"""The web app's send thread: runs the sends queued through the API (and the scheduled sends
that are due) while `newsletter serve` serves, woken by each request that queued one and
polling for the rest (a send queued before a restart, a schedule coming due).

`stop()` (when `serve` stops) lets the running send finish the messages in flight and leaves
it `sending`; the next start takes it over (`delivery.remote_worker`).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..config import Settings
from ..delivery.remote_worker import RemoteSendWorker

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0


class SendThread:
    """One worker and one daemon thread that runs it (started by `serve` or the first queue)."""

    def __init__(
        self,
        settings: Settings,
        newsletters_dir: Path,
        *,
        background: bool = True,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.background = background  # off (tests): queued sends wait for `worker.run_due()`
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.poll_seconds = poll_seconds
        self.worker = RemoteSendWorker(settings, newsletters_dir, stop=self._stop)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sender", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        if not self.background:
            return
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.worker.run_due()
            except Exception as exc:  # the thread must live on; logged by type only
                log.error("the send worker could not run: %s", type(exc).__name__)
            self._wake.wait(timeout=self.poll_seconds)
