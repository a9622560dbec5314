"""The send loop: the main thread owns the ledger, worker threads own one SMTP connection each.

Per row: the main thread re-checks the subscription, mints the two personal tokens and commits
`sending` (one IMMEDIATE transaction), builds and signs the message, then hands it to a worker.
The worker talks SMTP and reports the reply; the main thread commits `sent` (or `deferred`,
`failed`) in its next transaction, which also claims the next rows: one commit (one fsync)
covers every reply that arrived meanwhile. Workers never touch the database and the main
thread never talks SMTP, so no SMTP exchange ever waits inside a transaction, and a row is
`sending` in the database before its message leaves. At most QUEUE_DEPTH x connections rows
are in flight (claimed but not yet recorded): the only messages a `kill -9` can duplicate.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import queue
import threading
import time
from collections.abc import Callable

from sqlite_utils import Database

from ..audience import fields, subscribers, tokens
from ..store.db import transaction, utc_now
from . import ledger, smtputf8
from .dkim import DkimSigner
from .message import HeaderError, MessageFactory, RecipientValues, delivery_message_id
from .pacing import Pacer
from .report import SendSummary
from .smtp import SmtpTransport
from .worker import Job, Outcome, smtp_worker

RETRY_DELAYS = (5.0, 30.0, 120.0)  # seconds before the 2nd, 3rd, 4th attempt in one run
PAUSE_AFTER_FAILURES = 10
MAX_ATTEMPTS = 12  # over all runs (crashes included): then `failed`, like a bounce after days
FETCH_BATCH = 200
HEARTBEAT_SECONDS = 10.0
QUEUE_DEPTH = 8  # messages claimed ahead per connection, so workers never wait for a commit
LONG_WAIT = 5.0  # seconds of enforced pause worth telling the user about
MAX_RECORD_DELAY = 0.05  # seconds a 250 may wait to be committed together with others


class SendEngine:
    """One run over the ledger rows of one issue. Create, then call `run()` once."""

    def __init__(
        self,
        db: Database,
        *,
        issue: str,
        list_name: str,
        secret_key: str,
        base_url: str,
        factory: MessageFactory,
        signer: DkimSigner | None,
        transports: list[SmtpTransport],
        sender: str,
        pacer: Pacer,
        summary: SendSummary,
        limit: int | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        pause_after: int = PAUSE_AFTER_FAILURES,
        on_progress: Callable[[int], None] = lambda steps: None,
        notify: Callable[[str], None] = lambda text: None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
        return_path: Callable[[int], str] | None = None,  # bounces: row id -> envelope sender
    ) -> None:
        self.db, self.issue, self.list_name = db, issue, list_name
        self.list_id = subscribers.list_id(db, list_name)
        self.secret_key, self.base_url = secret_key, base_url.rstrip("/")
        self.factory, self.signer = factory, signer
        self.transports, self.sender = transports, sender
        self.pacer, self.summary, self.limit = pacer, summary, limit
        self.retry_delays, self.pause_after = retry_delays, pause_after
        self.on_progress, self.stop = on_progress, stop or threading.Event()
        self.notify = notify
        self.told_wait = 0.0
        self.clock = clock
        self.return_path = return_path  # bounces: VERP (issue 12); None = the From address
        self.jobs: queue.Queue = queue.Queue()
        self.outcomes: queue.Queue = queue.Queue()
        self.capacity = QUEUE_DEPTH * len(transports)
        self.batch = max(1, QUEUE_DEPTH // 2) * len(transports)
        self.in_flight = 0
        self.buffer: list = []
        self.cursor = 0
        self.exhausted = False
        self.retries: list[tuple[float, int]] = []
        self.run_attempts: dict[int, int] = {}
        self.claimed_new = 0
        self.failures_in_row = 0
        self.last_heartbeat = 0.0
        self.local: list[Outcome] = []

    # --- the loop -----------------------------------------------------------------------------

    def run(self) -> SendSummary:
        started = self.summary.started = time.monotonic()
        workers = [
            threading.Thread(
                target=smtp_worker,
                args=(t, self.sender, self.jobs, self.outcomes),
                name=f"smtp-{n}",
                daemon=True,
            )
            for n, t in enumerate(self.transports)
        ]
        for worker in workers:
            worker.start()
        try:
            self._loop()
            self.summary.deferred += len(self.retries)  # stopped before their retry was due
        finally:
            # on an error or a second Ctrl-C, messages not yet handed to SMTP stay `sending`
            # and go out on the next run; only the ones being sent right now finish
            with contextlib.suppress(queue.Empty):
                while True:
                    self.jobs.get_nowait()
            for _ in workers:
                self.jobs.put(None)
            for worker in workers:
                worker.join(timeout=max(t.settings.smtp_timeout for t in self.transports) + 5)
            self.summary.seconds = time.monotonic() - started
        return self.summary

    def _loop(self) -> None:
        """Group commit: replies are recorded together with the next batch of claims, so one
        fsync covers several messages; failures, the end of the run and a stop are recorded
        at once, and no reply waits longer than MAX_RECORD_DELAY."""
        finished: list[Outcome] = []
        oldest = 0.0
        while True:
            got = self._drain()
            if got and not finished:
                oldest = time.monotonic()
            finished.extend(got)
            stopping = self._stopping()
            busy = self.in_flight - sum(1 for o in finished if o.smtp)
            free = self.capacity - busy
            may_claim = not stopping and (free >= self.batch or busy == 0)
            rows = self._candidates(free) if may_claim else []
            urgent = bool(finished) and (
                stopping
                or not self._has_new()
                or any(o.kind != "sent" for o in finished)
                or time.monotonic() - oldest >= MAX_RECORD_DELAY
            )
            if rows or self.local or urgent:
                claims = self._commit(finished + self.local, rows)
                finished, self.local = [], []
                self._dispatch(claims)
                continue
            if self.in_flight == 0 and (stopping or self._all_done()):
                return
            timeout = 0.5
            if finished:
                timeout = min(timeout, oldest + MAX_RECORD_DELAY - time.monotonic())
            if may_claim:
                pause = self._wait_time()
                timeout = min(timeout, pause)
                self._tell_long_wait(pause)
            timeout = max(timeout, 0.001)
            if busy > 0:
                with contextlib.suppress(queue.Empty):
                    outcome = self.outcomes.get(timeout=timeout)
                    if not finished:
                        oldest = time.monotonic()
                    finished.append(outcome)
            else:
                self.stop.wait(timeout)

    def _tell_long_wait(self, pause: float) -> None:
        """Say once when the hourly cap makes the run wait (the progress bar just stalls)."""
        if pause < LONG_WAIT or not self.pacer.per_hour or self.told_wait > self.clock():
            return
        until = self.clock() + pause
        self.told_wait = until
        self.notify(
            f"SEND_RATE_PER_HOUR={self.pacer.per_hour} reached; waiting until "
            f"{time.strftime('%H:%M', time.localtime(until))} to go on (Ctrl-C stops; running "
            "the same command later resumes)."
        )

    def _stopping(self) -> bool:
        if self.stop.is_set() and self.summary.stopped is None:
            self.summary.stopped = "interrupted"
        return self.summary.stopped in ("interrupted", "paused")

    def _drain(self) -> list[Outcome]:
        got = []
        while True:
            try:
                got.append(self.outcomes.get_nowait())
            except queue.Empty:
                return got

    def _has_new(self) -> bool:
        """Rows not yet taken in this run may remain (the buffer or the ledger beyond it)."""
        if self.limit is not None and self.claimed_new >= self.limit:
            return False
        return bool(self.buffer) or not self.exhausted

    def _all_done(self) -> bool:
        return not self._has_new() and not self.retries

    def _wait_time(self) -> float:
        """How long the loop may sleep: 0 when a row can be claimed now."""
        now = self.clock()
        pacing = self.pacer.wait_time(now) if self.pacer.limited else 0.0
        if self._has_new():
            return pacing
        if self.retries:
            return max(pacing, self.retries[0][0] - now)
        return 0.5

    # --- choosing rows ------------------------------------------------------------------------

    def _refill(self) -> None:
        self.buffer = list(
            ledger.pending_rows(
                self.db,
                self.issue,
                list_id=self.list_id,
                after_id=self.cursor,
                limit=FETCH_BATCH,
            )
        )
        self.buffer.reverse()  # pop() from the end = lowest id first
        if self.buffer:
            self.cursor = self.buffer[0][0]
        else:
            self.exhausted = True

    def _candidates(self, free: int) -> list[int]:
        """Row ids to claim now: due retries first, then rows in ledger order."""
        chosen: list[int] = []
        now = self.clock()
        while len(chosen) < free and self.pacer.wait_time(now) <= 0:
            if self.retries and self.retries[0][0] <= now:
                chosen.append(heapq.heappop(self.retries)[1])
            else:
                if self.limit is not None and self.claimed_new >= self.limit:
                    break
                if not self.buffer and not self.exhausted:
                    self._refill()
                if not self.buffer:
                    break
                row_id = self.buffer.pop()[0]
                if row_id in self.run_attempts:
                    continue  # already handled in this run (retry heap owns it)
                self.claimed_new += 1
                chosen.append(row_id)
            self.pacer.take(now)
        return chosen

    # --- the one transaction per cycle --------------------------------------------------------

    def _commit(self, finished: list[Outcome], rows: list[int]) -> list[Job]:
        now_text = utc_now()
        claims: list[Job] = []
        with transaction(self.db):
            for outcome in finished:
                self._record(outcome, now_text)
            for row_id in rows:
                job = self._claim(row_id, now_text)
                if job is not None:
                    claims.append(job)
            if self.pacer.limited:
                ledger.save_pacing(self.db, self.pacer.next_slot, self.pacer.unsaved())
            now = self.clock()
            if now - self.last_heartbeat > HEARTBEAT_SECONDS:
                ledger.heartbeat(self.db, self.issue, os.getpid(), now)
                self.last_heartbeat = now
        self.in_flight -= sum(1 for o in finished if o.smtp)
        return claims

    def _claim(self, row_id: int, now_text: str) -> Job | None:
        row = self.db.execute(
            "SELECT d.subscriber_id, d.list_id, d.state, d.message_id, d.attempts, s.email, s.name "
            "FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id WHERE d.id = ?",
            [row_id],
        ).fetchone()
        if row is None or row[2] not in ledger.PENDING_STATES:
            return None
        subscriber_id, list_id, _, message_id, attempts, address, name = row
        self.run_attempts[row_id] = self.run_attempts.get(row_id, 0) + 1
        event = None
        if subscriber_id is not None and address is not None:
            event = subscribers.active_consent_event(self.db, subscriber_id, self.list_name)
        if event is None:
            reason = "not sent: the subscription was no longer active when its turn came"
            ledger.mark(self.db, row_id, "skipped", reply=reason, now=now_text)
            self.summary.skipped += 1
            self.on_progress(1)
            return None
        deferral = smtputf8.deferral_reason(address, self.transports)
        if deferral:  # an international address the server cannot take: no attempt counted
            ledger.mark(self.db, row_id, "deferred", reply=deferral, now=now_text)
            self.summary.deferred += 1
            self.summary.smtputf8_deferred += 1
            self.on_progress(1)
            return None
        message_id = message_id or delivery_message_id(
            self.secret_key, self.issue, subscriber_id, self.factory.domain
        )
        ledger.mark_sending(
            self.db, row_id, message_id=message_id, consent_event_id=event, now=now_text
        )
        unsubscribe = tokens.issue_token(self.db, "unsubscribe", subscriber_id, list_id)
        preferences = tokens.issue_token(self.db, "preferences", subscriber_id, list_id)
        values = RecipientValues(
            email=address,
            name=name or "",
            unsubscribe_url=f"{self.base_url}/unsubscribe/{unsubscribe}",
            preferences_url=f"{self.base_url}/preferences/{preferences}",
            fields=fields.fields_of(self.db, subscriber_id) if self.factory.field_names else {},
        )
        job = Job(row_id, subscriber_id, address, message_id, attempts + 1, values)
        if self.return_path is not None:  # bounces: this row's own VERP envelope sender
            job.sender = self.return_path(row_id)
        return job

    def _dispatch(self, claims: list[Job]) -> None:
        """Build and sign each claimed message outside the transaction, then queue it."""
        for job in claims:
            try:
                data = self.factory.render(job.values, message_id=job.message_id)
                job.data = self.signer.sign(data) if self.signer else data
            except HeaderError as exc:
                self.local.append(Outcome(job, "failed", f"not sent: {exc}", smtp=False))
                continue
            self.in_flight += 1
            self.jobs.put(job)

    def _record(self, outcome: Outcome, now_text: str) -> None:
        row_id = outcome.job.row_id
        summary = self.summary
        if outcome.kind == "sent":
            ledger.mark_sent(self.db, row_id, reply=outcome.reply, now=now_text)
            summary.sent += 1
            self.failures_in_row = 0
            self.on_progress(1)
            return
        if outcome.smtp:
            self.failures_in_row += 1
        if outcome.kind == "failed":
            ledger.mark(self.db, row_id, "failed", reply=outcome.reply, now=now_text)
            summary.failed += 1
            if outcome.hard_bounce:
                subscribers.mark_bounced(
                    self.db, outcome.job.subscriber_id, self.list_name, reply=outcome.reply
                )
                summary.bounced += 1
            self.on_progress(1)
        elif outcome.job.attempts >= MAX_ATTEMPTS:
            reply = f"gave up after {outcome.job.attempts} attempts; the last: {outcome.reply}"
            ledger.mark(self.db, row_id, "failed", reply=reply, now=now_text)
            summary.failed += 1
            self.on_progress(1)
        elif outcome.kind == "held":  # refused, but not the address: no retry in this run
            ledger.mark(self.db, row_id, "deferred", reply=outcome.reply, now=now_text)
            summary.deferred += 1
            self.on_progress(1)
            if outcome.stage == "mail" and summary.stopped is None:  # every message would be
                summary.stopped = "paused"
                summary.reason = f"the server refused the sender address: {outcome.reply}"
        else:
            ledger.mark(self.db, row_id, "deferred", reply=outcome.reply, now=now_text)
            attempt = self.run_attempts.get(row_id, 1)
            if attempt <= len(self.retry_delays) and not self._stopping():
                delay = self.retry_delays[attempt - 1]
                heapq.heappush(self.retries, (self.clock() + delay, row_id))
            else:
                summary.deferred += 1
                self.on_progress(1)
        if len(summary.failures) < 5:
            summary.failures.append(outcome.reply)
        if self.failures_in_row >= self.pause_after and summary.stopped is None:
            summary.stopped = "paused"
            summary.reason = f"{self.failures_in_row} failures in a row, the last: {outcome.reply}"
