"""The server's send worker: runs the sends queued through the API (`remote_queue`) and the
scheduled sends that are due, one at a time, with the same `run_send` as a local send.

A job is claimed in a transaction with this process's pid and start mark; a job left `sending`
by a process that is gone (`serve` killed) is claimed again and resumes like a local send after
a crash: the ledger retries the messages that were in flight with their original Message-ID,
so at most one copy per connection is sent twice. `stop` (set when `serve` stops) finishes the
messages in flight and leaves the job `sending` for the next start. Of the scheduled sends it
runs those of issues received from a laptop; the others stay with `scheduled run` (cron), which
runs the content checks their sources allow.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..compose import bundle
from ..config import Settings
from ..errors import MailerError
from ..store.db import open_db, transaction, utc_now
from . import schedule
from .remote_queue import Job, finish, select, server_gate
from .runlock import Owner, process_alive
from .send import prepare_issue, run_send

log = logging.getLogger(__name__)


def claim_next(db, owner: Owner) -> Job | None:
    """The oldest queued job, or one whose runner is gone, now `sending` for `owner`."""
    with transaction(db):
        for job_id, pid, started in db.execute(
            "SELECT id, runner_pid, runner_start FROM remote_sends WHERE state = 'queued' "
            "OR state = 'sending' ORDER BY id"
        ).fetchall():
            if pid and (pid == owner.pid or process_alive(pid, started or "")):
                continue  # running here already, or in another live process
            db.execute(
                "UPDATE remote_sends SET state = 'sending', runner_pid = ?, runner_start = ?, "
                "updated_at = ? WHERE id = ?",
                [owner.pid, owner.started, utc_now(), job_id],
            )
            return select(db, "id = ?", [job_id])[0]
    return None


class RemoteSendWorker:
    """Runs what is due; `run_due` returns when nothing is left or `stop` is set."""

    def __init__(
        self,
        settings: Settings,
        newsletters_dir: Path,
        *,
        stop: threading.Event | None = None,
        notify: Callable[[str], None] = log.info,
        **send_options,
    ) -> None:
        self.settings = settings
        self.newsletters_dir = Path(newsletters_dir)
        self.stop = stop or threading.Event()
        self.notify = notify
        self.send_options = send_options
        self.owner = Owner.this_process()

    def run_due(self) -> int:
        """Run queued jobs until none is left, then the due scheduled sends; returns how many
        jobs ran."""
        ran = 0
        while not self.stop.is_set():
            db = open_db(self.settings.db_path)
            try:
                job = claim_next(db, self.owner)
                if job is None:
                    break
                state, message = self._run(job)
                if state != "sending":
                    finish(db, job, state, message)
                ran += 1
            finally:
                db.close()
        if not self.stop.is_set():
            schedule.run_due(
                self.settings,
                gate=self.gate,
                notify=self.notify,
                stop=self.stop,
                only=lambda item: bundle.is_received(Path(item.issue_dir)),
            )
        return ran

    def gate(self, issue_dir: Path, force: bool) -> None:
        """The server's checks of an issue received from a laptop (it has no sources here)."""
        server_gate(self.settings, prepare_issue(issue_dir, self.settings).meta, force=force)

    def _run(self, job: Job) -> tuple[str, str]:
        options = job.options
        try:
            summary = run_send(
                self.settings,
                self.newsletters_dir / job.issue,
                list_name=job.list_name,
                connections=options.get("connections"),
                rate=options.get("rate"),
                retry_failed=bool(options.get("retry_failed")),
                segment=options.get("segment"),
                limit=options.get("limit"),
                notify=self.notify,
                stop=self.stop,
                **self.send_options,
            )
        except MailerError as exc:
            return "stopped", f"stopped: {exc}; send again to resume"
        except Exception as exc:  # the thread lives on; the job says what happened
            log.error("send of %s failed: %s", job.issue, type(exc).__name__)
            return "stopped", f"stopped: {type(exc).__name__}; send again to resume"
        if summary.stopped == "interrupted" and self.stop.is_set():
            return "sending", summary.line()  # the server stops: the next start resumes it
        if summary.remaining or summary.stopped:
            return "stopped", summary.line() + "; send again to send the rest"
        return "done", summary.line()


def run_forever(
    settings: Settings, newsletters_dir: Path, poll_seconds: float, *, announce=print
) -> None:
    """`newsletter worker`: run what is due every `poll_seconds` until Ctrl-C (which lets the
    messages in flight finish and leaves the send for the next start)."""
    import signal

    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    worker = RemoteSendWorker(settings, newsletters_dir, stop=stop, notify=announce)
    announce(f"Sending what laptops queue in {settings.db_path} (Ctrl+C to stop)")
    try:
        while not stop.is_set():
            worker.run_due()
            stop.wait(poll_seconds)
    finally:
        signal.signal(signal.SIGINT, previous)
    announce("Stopped; a send left unfinished continues at the next start.")
