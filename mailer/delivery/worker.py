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


@dataclass
class Job:
    row_id: int
    subscriber_id: int
    address: str
    message_id: str
    attempts: int = 1  # attempts so far, all runs, this one included
    values: RecipientValues | None = None
    data: bytes = b""


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
    """Send each job on this worker's connection and report every reply, whatever happens."""
    try:
        while (job := jobs.get()) is not None:
            try:
                check = (lambda job=job: recorder.check(job)) if recorder else None
                reply = transport.send(sender, job.address, job.data, before_end=check)
                recorded = recorder.sent(job, reply) if recorder else False
                out.put(Outcome(job, "sent", reply, recorded=recorded))
            except Withdrawn as exc:
                kind = "lost" if exc.reason == LOST_LOCK else "skipped"
                out.put(Outcome(job, kind, f"not sent: {exc.reason}"))
            except PermanentFailure as exc:
                # only a refused address ends a recipient; a 5xx to MAIL FROM or DATA is about
                # the sender or the message, and the next run should try the person again
                kind = "failed" if exc.stage == "rcpt" else "held"
                out.put(Outcome(job, kind, exc.reply, exc.hard_bounce, exc.stage))
            except TemporaryFailure as exc:
                out.put(Outcome(job, "retry", exc.reply))
            except ConnectionLost as exc:
                out.put(Outcome(job, "retry", str(exc)))
            except Exception as exc:  # the row must be accounted for
                out.put(Outcome(job, "retry", f"unexpected error: {exc!r}"))
    finally:
        transport.close()
        if recorder is not None:
            recorder.close()
