"""The send loop: the main thread claims rows, worker threads own one SMTP connection each.

Per batch of rows the main thread checks that the run still holds its lock (the fencing
number), re-checks each subscription and commits `sending` (one IMMEDIATE transaction), then
builds and signs the messages and hands them to the workers. A worker talks SMTP; just
before each message's final "." it checks the lock and the subscription once more (someone
who unsubscribed a moment ago is not mailed), and it commits each 250 while the server
answers the next message's MAIL FROM (or at once when none is waiting), always before that
next message can be complete. So a row is `sending` in the database before its message
leaves, and a `kill -9` can duplicate at most the messages whose 250 had arrived but was not
yet committed: one per connection. Replies other than 250 are recorded by the main thread.
No SMTP exchange ever waits inside a transaction.
"""

from __future__ import annotations

import contextlib
import heapq
import queue
import threading
import time
from collections.abc import Callable

from sqlite_utils import Database

from ..audience import fields, subscribers, tokens
from ..store.db import database_file, transaction, utc_now
from . import ledger, runlock, smtputf8
from .dkim import DkimSigner
from .message import HeaderError, MessageFactory, RecipientValues, delivery_message_id
from .pacing import Pacer
from .recorder import Recorder
from .report import SendSummary
from .smtp import SmtpTransport
from .worker import LEFT, Job, Outcome, smtp_worker

RETRY_DELAYS = (5.0, 30.0, 120.0)  # seconds before the 2nd, 3rd, 4th attempt in one run
PAUSE_AFTER_FAILURES = 10
MAX_ATTEMPTS = 12  # over all runs (crashes included): then `failed`, like a bounce after days
FETCH_BATCH = 200
QUEUE_DEPTH = 16  # messages claimed ahead per connection, so workers never wait for a claim
LONG_WAIT = 5.0  # seconds of enforced pause worth telling the user about


class SendEngine:
    """One run over the ledger rows of one issue and list. Create, then call `run()` once.

    `fence` is the run's lock number (runlock.acquire); `lock_lost` is set by the heartbeat
    thread when another run has taken the lock. With `stop_at_quota`, reaching the hourly or
    daily quota ends the run (summary.stopped == "quota", summary.resume_at) instead of
    waiting.
    """

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
        fence: int = 0,
        lock_lost: threading.Event | None = None,
        stop_at_quota: bool = False,
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
        self.fence, self.lock_lost = fence, lock_lost or threading.Event()
        self.stop_at_quota = stop_at_quota
        self.retry_delays, self.pause_after = retry_delays, pause_after
        self.on_progress, self.stop = on_progress, stop or threading.Event()
        self.notify = notify
        self.told_wait = 0.0
        self.clock = clock
        self.write_lock = threading.Lock()  # every connection of this run writes under it
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
        self.retried: dict[int, int] = {}  # row -> attempts in this run, only while retrying
        self.claimed_new = 0
        self.failures_in_row = 0
        self.local: list[Outcome] = []

    # --- the loop -----------------------------------------------------------------------------

    def run(self) -> SendSummary:
        started = self.summary.started = time.monotonic()
        path = database_file(self.db)
        workers = [
            threading.Thread(
                target=smtp_worker,
                args=(
                    t,
                    self.sender,
                    self.jobs,
                    self.outcomes,
                    Recorder(path, self.issue, self.list_id, self.fence, self.write_lock),
                ),
                name=f"smtp-{n}",
                daemon=True,
            )
            for n, t in enumerate(self.transports)
        ]
        for worker in workers:
            worker.start()
        # the run's commits are written (they survive a kill) without each waiting for the
        # disk; the heartbeat's commit (synchronous=FULL, every 5 s) syncs them all: see recorder
        self.db.execute("PRAGMA synchronous = NORMAL")
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
            # replies that arrived while stopping (the 250s are committed already)
            with contextlib.suppress(Exception):
                self._record_all(self._drain())
            self.db.execute("PRAGMA synchronous = FULL")
            self.summary.seconds = time.monotonic() - started
        return self.summary

    def _loop(self) -> None:
        while True:
            finished = self._drain()
            committed = [o for o in finished if o.kind == "sent" and o.recorded]
            for outcome in committed:
                self._record(outcome, "")  # counted only: the worker committed the row
            finished = [o for o in finished if not (o.kind == "sent" and o.recorded)]
            if finished:
                # Replies first, claims after: one of these replies may stop the run (a
                # refused sender). Deciding to claim before recording them let a busy
                # machine, whose workers got through many refusals between two looks,
                # claim and try everybody after the server had refused the sender.
                self._commit(finished, [])
            stopping = self._stopping()
            free = self.capacity - self.in_flight
            may_claim = not stopping and (free >= self.batch or self.in_flight == 0)
            rows = self._candidates(free) if may_claim else []
            if rows or finished:
                if rows:
                    self._dispatch(self._commit([], rows))
                if rows or self.local:
                    continue
            if self.in_flight == 0 and (self._stopping() or self._all_done()):
                return
            timeout = 0.5
            if may_claim:
                pause = self._wait_time()
                timeout = min(timeout, pause)
                self._quota_reached(pause)
            timeout = max(timeout, 0.001)
            if self.in_flight > 0:
                with contextlib.suppress(queue.Empty):
                    self.local.append(self.outcomes.get(timeout=timeout))
                    self.in_flight -= 1
            else:
                self.stop.wait(timeout)

    def _quota_reached(self, pause: float) -> None:
        """At the hourly or daily quota: stop (--stop-at-quota) or say once until when the
        run waits (the progress bar just stalls)."""
        if pause < LONG_WAIT:
            return
        wait, setting = self.pacer.quota_wait(self.clock())
        if not setting or wait < LONG_WAIT:
            return
        until = self.clock() + wait
        if self.stop_at_quota:
            if self.summary.stopped is None:
                self.summary.stopped, self.summary.reason = "quota", f"{setting} reached"
                self.summary.resume_at = until
            return
        if self.told_wait > self.clock():
            return
        self.told_wait = until
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(until))
        self.notify(
            f"{setting} reached; waiting until {when} to go on (Ctrl-C stops; running the "
            "same command later resumes; --stop-at-quota stops here instead)."
        )

    def _stopping(self) -> bool:
        if self.stop.is_set() and self.summary.stopped is None:
            self.summary.stopped = "interrupted"
        if self.lock_lost.is_set() and self.summary.stopped is None:
            self._lost()
        return self.summary.stopped in ("interrupted", "paused", "quota", "lost")

    def _lost(self) -> None:
        """Another run holds the lock now: hand no more messages to SMTP (the rows stay
        `sending` under our older fencing number, for the run that holds the lock)."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.jobs.get_nowait()
                self.in_flight -= 1
        self.summary.stopped = "lost"
        self.summary.reason = (
            f"another run has taken over the lock of {self.issue} to list {self.list_name}; "
            "this one stopped without mailing anybody else"
        )

    def _drain(self) -> list[Outcome]:
        got, self.local = self.local, []
        while True:
            try:
                got.append(self.outcomes.get_nowait())
                self.in_flight -= 1
            except queue.Empty:
                return got

    def _has_new(self) -> bool:
        """Rows not yet taken in this run remain (the buffer or the ledger beyond it).

        An empty buffer is refilled here to find out: otherwise, when the last message used up
        an hourly or daily quota, no claim would read the ledger again and the run would wait
        for the quota with nobody left to mail."""
        if self.limit is not None and self.claimed_new >= self.limit:
            return False
        if not self.buffer and not self.exhausted:
            self._refill()
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
        """Row ids to claim now: due retries first, then rows in ledger order (the cursor
        only moves forward, so a row is read from the ledger once per run)."""
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
                self.claimed_new += 1
                chosen.append(self.buffer.pop()[0])
            self.pacer.take(now)
        return chosen

    # --- the claim transaction ----------------------------------------------------------------

    def _commit(self, finished: list[Outcome], rows: list[int]) -> list[Job]:
        """Record the replies the workers did not commit and claim `rows`, in one transaction
        that first checks the run still holds its lock."""
        now_text = utc_now()
        claims: list[Job] = []
        with self.write_lock, transaction(self.db):
            self._record_all(finished, now_text)
            if rows and not runlock.holds(self.db, self.issue, self.list_id, self.fence):
                if self.summary.stopped is None:
                    self._lost()
                rows = []
            claims = self._claim_rows(rows, now_text)
            if self.pacer.limited:
                ledger.save_pacing(self.db, self.pacer.next_slot, self.pacer.unsaved())
        return claims

    def _claim_rows(self, rows: list[int], now_text: str) -> list[Job]:
        """Mark the rows that are still to send `sending` (with this run's fencing number),
        skip those whose subscription ended; one read and one write for the whole batch."""
        if not rows:
            return []
        found = {
            row[0]: row
            for row in self.db.execute(
                "SELECT d.id, d.subscriber_id, d.list_id, d.state, d.message_id, d.attempts, "  # noqa: S608 - placeholders only
                "d.claimed_by, s.email, s.name, s.created, sub.status, sub.consent_event_id "
                "FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id "
                "LEFT JOIN subscriptions sub ON sub.subscriber_id = d.subscriber_id "
                f"AND sub.list_id = d.list_id WHERE d.id IN ({', '.join('?' * len(rows))})",
                rows,
            )
        }
        claims, marks = [], []
        for row_id in rows:
            row = found.get(row_id)
            if row is None:
                continue
            _, subscriber_id, list_id, state, message_id, attempts, claimed_by = row[:7]
            address, name, created, status, event = row[7:]
            if list_id != self.list_id or state not in ledger.PENDING_STATES:
                continue  # moved to another list's run, or finished meanwhile
            if state == "sending" and claimed_by is not None and claimed_by >= self.fence:
                continue  # in flight in this run (or a newer one): never taken twice
            if address is None or status != "active":
                reason = "not sent: the subscription was no longer active when its turn came"
                ledger.mark(self.db, row_id, "skipped", reply=reason, now=now_text)
                self.retried.pop(row_id, None)
                self.summary.skipped += 1
                self.on_progress(1)
                continue
            deferral = smtputf8.deferral_reason(address, self.transports)
            if deferral:  # an international address the server cannot take: no attempt counted
                ledger.mark(self.db, row_id, "deferred", reply=deferral, now=now_text)
                self.retried.pop(row_id, None)
                self.summary.deferred += 1
                self.summary.smtputf8_deferred += 1
                self.on_progress(1)
                continue
            message_id = message_id or delivery_message_id(
                self.secret_key, self.issue, subscriber_id, self.factory.domain
            )
            marks.append((message_id, event, now_text, self.fence, row_id))
            claims.append(self._job(row_id, subscriber_id, list_id, address, name, created))
            claims[-1].message_id, claims[-1].attempts = message_id, attempts + 1
        ledger.mark_sending_many(self.db, marks)
        return claims

    def _job(self, row_id, subscriber_id, list_id, address, name, created) -> Job:
        key = self.secret_key
        unsubscribe = tokens.signed_token(key, "unsubscribe", subscriber_id, list_id, created)
        preferences = tokens.signed_token(key, "preferences", subscriber_id, list_id, created)
        values = RecipientValues(
            email=address,
            name=name or "",
            unsubscribe_url=f"{self.base_url}/unsubscribe/{unsubscribe}",
            preferences_url=f"{self.base_url}/preferences/{preferences}",
            fields=fields.fields_of(self.db, subscriber_id) if self.factory.field_names else {},
        )
        job = Job(row_id, subscriber_id, address, "", 1, values)
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

    # --- recording replies --------------------------------------------------------------------

    def _record_all(self, finished: list[Outcome], now_text: str | None = None) -> None:
        if not finished:
            return
        now_text = now_text or utc_now()
        if not self.db.conn.in_transaction:
            with self.write_lock, transaction(self.db):
                for outcome in finished:
                    self._record(outcome, now_text)
            return
        for outcome in finished:
            self._record(outcome, now_text)

    def _record(self, outcome: Outcome, now_text: str) -> None:
        row_id = outcome.job.row_id
        summary = self.summary
        if outcome.kind != "retry":
            self.retried.pop(row_id, None)
        if outcome.kind == "sent":
            if not outcome.recorded:
                ledger.mark_sent(self.db, row_id, reply=outcome.reply, now=now_text)
            summary.sent += 1
            self.failures_in_row = 0
            self.on_progress(1)
            return
        if outcome.kind == "lost":  # the row stays `sending` for the run that holds the lock
            if summary.stopped is None:
                self._lost()
            return
        if outcome.kind == "skipped":  # left between the claim and the final "."
            ledger.mark(self.db, row_id, "skipped", reply=f"not sent: {LEFT}", now=now_text)
            summary.skipped += 1
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
            self.retried.pop(row_id, None)
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
            attempt = self.retried.get(row_id, 0) + 1  # attempts of this row in this run
            if attempt <= len(self.retry_delays) and not self._stopping():
                self.retried[row_id] = attempt
                delay = self.retry_delays[attempt - 1]
                heapq.heappush(self.retries, (self.clock() + delay, row_id))
            else:
                self.retried.pop(row_id, None)
                summary.deferred += 1
                self.on_progress(1)
        if len(summary.failures) < 5:
            summary.failures.append(outcome.reply)
        if self.failures_in_row >= self.pause_after and summary.stopped is None:
            summary.stopped = "paused"
            summary.reason = f"{self.failures_in_row} failures in a row, the last: {outcome.reply}"
