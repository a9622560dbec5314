"""SMTP worker threads of a send: each owns one connection, sends the jobs it is given and
reports every reply. A worker's database work is its Recorder's: the last check before each
message's final "." and the commit of each 250 before the next message starts."""

from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Protocol

from .message import RecipientValues
from .smtp import ConnectionLost, PermanentFailure, SmtpTransport, TemporaryFailure, Withdrawn

LOST_LOCK = "another run took over this send's lock"
LEFT = "the subscription ended just before the message went out"
UNRECORDED = "the ledger could not record the previous message's 250 (disk full?)"


@dataclass
class Job:
    row_id: int
    subscriber_id: int
    address: str
    message_id: str
    attempts: int = 1  # attempts so far, all runs, this one included
    values: RecipientValues | None = None
    data: bytes = b""
    sender: str = ""  # bounces: this message's envelope sender (VERP); "" = the run's sender


@dataclass
class Outcome:
    job: Job
    kind: str  # "sent" | "retry" | "held" | "failed" | "skipped" | "lost"
    reply: str
    hard_bounce: bool = False
    stage: str = ""  # SMTP command a refusal answered: "mail", "rcpt", "data"
    smtp: bool = True  # False: refused before any SMTP (header problem, not active)
    recorded: bool = False  # a "sent" row already committed by the worker


class Recorder(Protocol):
    """What a worker needs from the ledger (recorder.Recorder)."""

    def check(self, job: Job) -> str | None: ...
    def sent(self, job: Job, reply: str) -> bool: ...
    def close(self) -> None: ...


def smtp_worker(
    transport: SmtpTransport,
    sender: str,
    jobs: queue.Queue,
    out: queue.Queue,
    recorder: Recorder | None = None,
):
    """Send each job on this worker's connection and report every reply, whatever happens.

    A 250 is committed (and reported) while the server answers the next message's MAIL FROM,
    or at once when no message is waiting: always before the next message can be complete,
    so at most one accepted message per connection is ever unrecorded.

    A 250 whose commit fails (a full disk) stays pending: the next message is withdrawn
    before its final "." until the commit works, so a connection never has two accepted
    messages unrecorded. It is handed to the engine unrecorded (which records it or stops
    the run) when no message is waiting and when the worker ends.
    """
    pending: list[tuple[Job, str]] = []  # the last 250, not yet committed

    def flush(force: bool = False) -> bool:
        """Commit and report the pending 250; False (still pending) when the commit failed,
        unless `force`: then it is reported for the engine to record."""
        while pending:
            job, reply = pending[-1]
            recorded = recorder.sent(job, reply) if recorder else False
            if recorder and not recorded and not force:
                return False
            pending.pop()
            out.put(Outcome(job, "sent", reply, recorded=recorded))
        return True

    try:
        while True:
            try:
                job = jobs.get_nowait() if pending else jobs.get()
            except queue.Empty:
                flush(force=True)  # nothing waiting: commit now, never while blocked
                job = jobs.get()
            if job is None:
                break
            try:

                def before_end(job=job) -> str | None:
                    if not flush():
                        return UNRECORDED
                    return recorder.check(job) if recorder else None

                reply = transport.send(
                    job.sender or sender,
                    job.address,
                    job.data,
                    before_end=before_end,
                    after_mail=flush,
                )
                flush()
                pending.append((job, reply))
            except Withdrawn as exc:
                if exc.reason == UNRECORDED:  # not sent: the engine retries it (or stops)
                    out.put(Outcome(job, "retry", f"not sent: {exc.reason}", smtp=False))
                    continue
                flush()
                kind = "lost" if exc.reason == LOST_LOCK else "skipped"
                out.put(Outcome(job, kind, f"not sent: {exc.reason}"))
            except PermanentFailure as exc:
                flush()
                # only a refused address ends a recipient; a 5xx to MAIL FROM or DATA is about
                # the sender or the message, and the next run should try the person again
                kind = "failed" if exc.stage == "rcpt" else "held"
                out.put(Outcome(job, kind, exc.reply, exc.hard_bounce, exc.stage))
            except TemporaryFailure as exc:
                flush()
                out.put(Outcome(job, "retry", exc.reply))
            except ConnectionLost as exc:
                flush()
                out.put(Outcome(job, "retry", str(exc)))
            except Exception as exc:  # the row must be accounted for
                flush()
                out.put(Outcome(job, "retry", f"unexpected error: {exc!r}"))
    finally:
        flush(force=True)
        transport.close()
        if recorder is not None:
            recorder.close()
