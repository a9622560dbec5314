"""The web app's ledger-retention thread: while `serve` runs, it folds per-recipient ledger
rows older than NEWSLETTER_LEDGER_RETENTION_DAYS into per-issue counts (delivery.retention)
at start and then every few hours, so retention holds without a cron job."""

from __future__ import annotations

import logging
import threading

from ..config import Settings
from ..delivery.retention import prune_ledger

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 6 * 3600.0


class RetentionThread:
    """A daemon thread running `prune_ledger` every `interval` seconds until stopped."""

    def __init__(self, settings: Settings, *, interval: float = INTERVAL_SECONDS) -> None:
        self.settings, self.interval = settings, interval
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-retention", daemon=True)

    def start(self) -> RetentionThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                summary = prune_ledger(self.settings)
                if summary.groups:
                    log.info("%s", summary.line())
            except Exception as exc:  # a busy or full database: try again at the next turn
                log.warning("ledger retention did not run: %s", type(exc).__name__)
            self.runs += 1
            self._stop.wait(self.interval)
