"""SMTP worker threads of a send: each owns one connection, sends the jobs it is given and
reports every reply. Workers never touch the database."""

from __future__ import annotations

import queue
from dataclasses import dataclass

from .message import RecipientValues
from .smtp import ConnectionLost, PermanentFailure, SmtpTransport, TemporaryFailure


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
    kind: str  # "sent" | "retry" | "held" | "failed" | "skipped"
    reply: str
    hard_bounce: bool = False
    stage: str = ""  # SMTP command a refusal answered: "mail", "rcpt", "data"
    smtp: bool = True  # False: refused before any SMTP (header problem, not active)


def smtp_worker(transport: SmtpTransport, sender: str, jobs: queue.Queue, out: queue.Queue):
    """Send each job on this worker's connection and report every reply, whatever happens."""
    try:
        while (job := jobs.get()) is not None:
            try:
                reply = transport.send(job.sender or sender, job.address, job.data)
                out.put(Outcome(job, "sent", reply))
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
