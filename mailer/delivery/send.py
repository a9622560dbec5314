"""Sending an issue: plan, confirm, connect, queue, run the engine; test copies and status.

`run_send` is what `newsletter send` calls. It writes nothing before the SMTP server has
accepted a connection (and login), so a wrong host or password leaves the ledger untouched.
Re-running it resumes: rows already `sent` are never mailed again, rows left `sending` by a
crash are retried with their original Message-ID. Only one run per issue and list is live
at a time (runlock); a second one refuses, naming the process that holds the lock.
"""

from __future__ import annotations

import contextlib
import json
import signal
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..audience import subscribers
from ..config import Settings
from ..errors import SendError, SubscriberError
from ..store.db import open_db, transaction
from . import ledger, retention, runlock, segment_memory, smtputf8
from .bounces.report import issue_reports
from .bounces.verp import return_path_for
from .dkim import signer_for
from .engine import PAUSE_AFTER_FAILURES, RETRY_DELAYS, SendEngine
from .message import MessageFactory, RecipientValues, delivery_message_id, test_message_id
from .pacing import Pacer
from .report import SendPlan, SendSummary, make_plan
from .smtp import SmtpTransport

QUEUE_NOTICE = 20_000  # new recipients worth saying that queueing them takes a while

__all__ = ["SendPlan", "SendSummary", "run_send", "send_status", "send_test"]


def prepare_issue(issue_dir: Path, settings: Settings):
    """The built issue, building it first when the build is missing or older than its sources
    (a build received as a bundle, on the server, has no sources and is taken as it is)."""
    from ..compose import build, bundle, personalize

    if not bundle.is_received(issue_dir) and build.is_stale(issue_dir, settings):
        build.build_issue(issue_dir, settings)
    return personalize.load_built(issue_dir)


def _no_progress(total: int):
    class _Bar:
        def update(self, steps: int, current_item: Any = None) -> None:
            pass

    return contextlib.nullcontext(_Bar())


@contextlib.contextmanager
def _graceful_interrupt(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C: finish the messages in flight, then stop. Second: stop at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_send(
    settings: Settings,
    issue_dir: Path,
    *,
    list_name: str | None = None,
    limit: int | None = None,
    connections: int | None = None,
    rate: float | None = None,
    dry_run_dir: Path | None = None,
    progress: Callable[[int], Any] | None = None,
    confirm: Callable[[SendPlan], bool] | None = None,
    preflight: Callable[[Path], None] | None = None,
    retry_failed: bool = False,
    notify: Callable[[str], None] = lambda text: None,
    ssl_context: ssl.SSLContext | None = None,
    retry_delays: tuple[float, ...] = RETRY_DELAYS,
    pause_after: int = PAUSE_AFTER_FAILURES,
    stop: threading.Event | None = None,
    stop_at_quota: bool = False,
    segment: str | None = None,
) -> SendSummary:
    """Send (or resume sending) an issue to a list. See the module docstring for guarantees.

    `segment` (`län = Örebro`, see mailer.audience.segments) mails only the matching active
    people; the ledger remembers it, so a resume without it keeps it (segment_memory).

    `progress(total)` returns a context manager whose object has `update(steps, item)` (as
    `click.progressbar(length=total)` does). `preflight(issue_dir)` runs on the built issue
    just before `confirm` when there is someone to mail (the CLI runs `newsletter check`
    there); raising stops the send with nothing written. `confirm(plan)` returning False
    cancels before anything is written. `dry_run_dir` writes .eml files instead of connecting.
    `stop_at_quota`: at SEND_RATE_PER_HOUR or SEND_RATE_PER_DAY, stop instead of waiting
    (the summary's `resume_at` says when the quota frees the next message).
    """
    secret_key = settings.require_secret_key()
    if limit is not None and limit < 1:
        raise SendError("--limit must be at least 1")
    connections = connections or settings.send_connections
    rate = settings.send_rate if rate is None else rate
    if connections < 1 or rate < 0:
        raise SendError("--connections must be at least 1 and --rate at least 0")
    issue_dir = Path(issue_dir)
    built = prepare_issue(issue_dir, settings)
    slug = str(built.meta.get("slug") or issue_dir.name)
    named_list = bool(list_name)
    list_name = list_name or str(built.meta.get("list") or subscribers.DEFAULT_LIST)
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        try:
            list_pk = subscribers.list_id(db, list_name)
        except SubscriberError as exc:
            where = "--list" if named_list else f"`list:` in {issue_dir / 'issue.md'}"
            raise SendError(
                f"{exc}; add people to it with `newsletter subscribers import FILE.csv "
                f"--list {list_name}`, or correct {where}"
            ) from None
        retention.refuse_folded(db, slug)
        title = db.execute("SELECT title FROM lists WHERE id = ?", [list_pk]).fetchone()[0]
        chosen = segment_memory.resolve(db, slug, list_pk, segment)
        segment_ids = chosen.matching_ids(db) if chosen else None
        factory = MessageFactory(built, settings, list_name=list_name, list_title=title)
        if dry_run_dir is not None:
            from .dryrun import write_dry_run

            return write_dry_run(
                db,
                settings,
                factory,
                slug,
                list_name,
                Path(dry_run_dir),
                limit,
                retry_failed,
                segment_ids=segment_ids,
            )
        signer = signer_for(settings)
        plan = make_plan(
            db,
            settings,
            built.meta,
            slug,
            list_name,
            limit,
            connections,
            rate,
            retry_failed,
            segment=chosen,
            segment_ids=segment_ids,
        )
        summary = SendSummary(
            issue=slug,
            list_name=list_name,
            recovered=plan.interrupted,
            already_sent=plan.already_sent,
        )
        if plan.recipients == 0 and plan.already_sent == 0 and plan.pending == 0:
            raise SendError(  # the check's list-empty error, said the same way
                f"list {list_name!r} has no active subscribers: nobody would get the issue; "
                f"add people: newsletter subscribers import FILE.csv --list {list_name}"
            )
        if plan.recipients == 0:
            summary.remaining = plan.pending
            return summary
        if preflight is not None:
            preflight(issue_dir)
        if confirm is not None and not confirm(plan):
            raise SendError("cancelled; nothing was sent")
        transports = _connect(settings, connections, ssl_context)
        next_slot, minutes = ledger.load_pacing(db, time.time())
        pacer = Pacer(
            rate,
            settings.send_rate_per_hour,
            settings.send_rate_per_day,
            next_slot=next_slot,
            minute_counts=minutes,
        )
        engine = SendEngine(
            db,
            issue=slug,
            list_name=list_name,
            secret_key=secret_key,
            base_url=settings.base_url,
            factory=factory,
            signer=signer,
            transports=transports,
            sender=factory.sender,
            pacer=pacer,
            summary=summary,
            limit=limit,
            retry_delays=retry_delays,
            pause_after=pause_after,
            stop=stop or threading.Event(),
            stop_at_quota=stop_at_quota,
            notify=notify,
            return_path=return_path_for(settings),  # bounces: VERP envelope sender (issue 12)
        )
        return _run_locked(
            db,
            engine,
            plan,
            progress or _no_progress,
            notify,
            retry_failed,
            stale_after=settings.send_lock_stale_seconds,
            segment=(chosen, segment_ids),
        )
    finally:
        db.close()


def plan_send(
    settings: Settings,
    issue_dir: Path,
    *,
    list_name: str | None = None,
    connections: int | None = None,
    rate: float | None = None,
    retry_failed: bool = False,
    segment: str | None = None,
    limit: int | None = None,
) -> SendPlan:
    """The plan `run_send` would show for the same options, without writing anything (the
    server answers an upload with it before queueing the send)."""
    issue_dir = Path(issue_dir)
    built = prepare_issue(issue_dir, settings)
    slug = str(built.meta.get("slug") or issue_dir.name)
    list_name = list_name or str(built.meta.get("list") or subscribers.DEFAULT_LIST)
    db = open_db(settings.db_path)
    try:
        try:
            subscribers.list_id(db, list_name)
        except SubscriberError as exc:
            raise SendError(
                f"{exc}; add people to it with `newsletter subscribers import FILE.csv "
                f"--list {list_name}`, or correct the list"
            ) from None
        chosen = segment_memory.resolve(db, slug, subscribers.list_id(db, list_name), segment)
        return make_plan(
            db,
            settings,
            built.meta,
            slug,
            list_name,
            limit,
            connections or settings.send_connections,
            settings.send_rate if rate is None else rate,
            retry_failed,
            segment=chosen,
            segment_ids=chosen.matching_ids(db) if chosen else None,
        )
    finally:
        db.close()


def _connect(settings: Settings, connections: int, ssl_context) -> list[SmtpTransport]:
    """Open every connection (and log in) before anything is written: a refused connection or
    a failed login ends the run here, with the ledger untouched."""
    transports = [SmtpTransport(settings, ssl_context=ssl_context) for _ in range(connections)]
    try:
        for transport in transports:
            transport.connect()
    except BaseException:
        for transport in transports:
            transport.close()
        raise
    return transports


def _run_locked(
    db,
    engine: SendEngine,
    plan: SendPlan,
    progress,
    notify,
    retry_failed: bool = False,
    *,
    stale_after: float = runlock.LOCK_STALE_SECONDS,
    segment: tuple = (None, None),
) -> SendSummary:
    """Take the lock of the issue and list (its heartbeat runs in a thread of its own), queue
    everyone new in short transactions (and failed rows again when asked), run the engine,
    release the lock."""
    slug, summary, list_pk = engine.issue, engine.summary, engine.list_id
    try:
        fence = runlock.acquire(
            db,
            slug,
            list_pk,
            engine.list_name,
            owner=runlock.Owner.this_process(),
            now=time.time(),
            stale_after=stale_after,
        )
    except BaseException:
        for transport in engine.transports:
            transport.close()
        raise
    heartbeat = runlock.Heartbeat.for_db(db, slug, list_pk, fence, stale_after).start()
    engine.fence, engine.lock_lost = fence, heartbeat.lost
    try:
        ledger.adopt(db, slug, list_pk)
        if retry_failed:
            again = ledger.requeue_failed(db, slug, list_pk)
            if again:
                notify(f"{again} failed message(s) of {slug} queued again (--retry-failed).")
        chosen, segment_ids = segment
        with transaction(db):
            segment_memory.remember(db, slug, list_pk, chosen)
        if segment_ids is not None:  # a segment: only its people, chosen in Python
            ledger.queue_recipients(
                db,
                slug,
                (
                    (r.subscriber_id, r.list_id, r.consent_event_id)
                    for r in subscribers.active_recipients(db, engine.list_name)
                    if r.subscriber_id in segment_ids
                ),
            )
        else:
            if plan.new >= QUEUE_NOTICE:
                notify(f"Queueing {plan.new:,} new recipients of {slug} in short batches ...")
            ledger.queue_list(db, slug, list_pk)
        if plan.interrupted:
            notify(
                f"{plan.interrupted} message(s) of {slug} were in flight when an earlier run "
                "stopped; retrying them with their original Message-ID."
            )
        with progress(plan.recipients) as bar, _graceful_interrupt(engine.stop):
            engine.on_progress = lambda steps: bar.update(steps, summary.rate_text())
            engine.run()
        counts = ledger.counts(db, slug, list_pk)
        summary.remaining = counts["queued"] + counts["deferred"] + counts["sending"]
    finally:
        heartbeat.stop()
        runlock.release(db, slug, list_pk, fence)
    if summary.stopped == "paused":
        raise SendError(
            f"paused after {summary.reason}. {summary.line()}. Fix the cause, then run the "
            "same command again to resume."
        )
    if summary.stopped == "lost":
        raise SendError(f"{summary.reason}. {summary.line()}.")
    return summary


def send_test(
    settings: Settings,
    issue_dir: Path,
    to_address: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> str:
    """Send one copy marked as a test to any address; the ledger is not touched.

    The links in a test copy lead to the unsubscribe and preferences pages with a token that
    is not valid for anybody. Returns the server's reply.
    """
    settings.require_sender()  # a test copy from the placeholder would teach nothing
    address = subscribers.normalise_email(to_address)
    built = prepare_issue(Path(issue_dir), settings)
    list_name = str(built.meta.get("list") or subscribers.DEFAULT_LIST)
    factory = MessageFactory(built, settings, list_name=list_name, test=True)
    base = settings.base_url.rstrip("/")
    values = RecipientValues(
        email=address,
        name="",
        unsubscribe_url=f"{base}/unsubscribe/test-copy",
        preferences_url=f"{base}/preferences/test-copy",
    )
    data = factory.render(values, message_id=test_message_id(factory.domain))
    signer = signer_for(settings)
    if signer:
        data = signer.sign(data)
    transport = SmtpTransport(settings, ssl_context=ssl_context)
    try:
        return transport.send(factory.sender, address, data)
    finally:
        transport.close()


def send_status(settings: Settings, issue_dir: Path) -> dict:
    """Counts per state and the rows that did not end in `sent`, with their last reply."""
    issue_dir = Path(issue_dir)
    meta_path = issue_dir / "build" / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    slug = str(meta.get("slug") or issue_dir.name)
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        counts = ledger.counts(db, slug)
        problems = list(ledger.problems(db, slug))
        return {
            "issue": slug,
            "counts": counts,
            "total": sum(counts.values()),
            "interrupted": counts["sending"],
            "problems": problems,
            "smtputf8_deferred": sum(1 for row in problems if smtputf8.is_deferral(row)),
            "bounces": issue_reports(db, slug),  # bounces: reported back (issue 12)
        }
    finally:
        db.close()


def message_id_for(settings: Settings, issue: str, subscriber_id: int) -> str:
    """The Message-ID a subscriber's copy of an issue has (for support questions)."""
    return delivery_message_id(
        settings.require_secret_key(), issue, subscriber_id, settings.sender_domain
    )
