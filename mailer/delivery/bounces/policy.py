"""What a report means for the list: find the message it is about, then decide and record.

Matching, most trustworthy first: the VERP token (HMAC-checked), else the original
Message-ID (also derived from the secret key), else the recipient address, and then only
when we have sent that person something. A report with a token that fails its check is not
matched by anything else: a forged report must not unsubscribe anyone.

Decisions: a permanent failure (5.x.x) marks the subscription `bounced` at once; temporary
failures (4.x.x) are counted and end it at BOUNCE_SOFT_LIMIT; a complaint unsubscribes from
that list (consent log channel `complaint`). Every decision is stored in `bounce_events`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlite_utils import Database

from ...audience import subscribers
from ...config import Settings
from ...store.db import transaction, utc_now
from .findings import Failure, Report
from .verp import find_tokens, verify_token

SEVERITY = {"complaint": 0, "hard": 1, "soft": 2}


@dataclass
class Match:
    """The ledger row a report is about."""

    delivery_id: int
    subscriber_id: int
    list_id: int
    list_name: str
    issue: str
    email: str
    matched_by: str  # token | message-id | address
    failure: Failure


@dataclass
class Decision:
    """What was (or, in a dry run, would be) recorded for one report."""

    outcome: str  # hard | soft | complaint | duplicate | unmatched
    text: str
    changed: bool = False  # a subscription changed (bounced or unsubscribed)


def _row(db: Database, where: str, params: list) -> tuple | None:
    return db.execute(
        "SELECT d.id, d.subscriber_id, d.list_id, lists.name, d.issue, s.email "  # noqa: S608 - fixed clauses
        "FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
        f"JOIN lists ON lists.id = d.list_id WHERE {where}",
        params,
    ).fetchone()


def _worst(failures: list[Failure], email: str | None = None) -> Failure:
    """The failure about `email` when the report names it, else the most serious one."""
    own = [f for f in failures if email and f.recipient.lower() == email]
    return sorted(own or failures, key=lambda f: SEVERITY[f.kind])[0]


def match_report(db: Database, settings: Settings, report: Report) -> tuple[Match | None, str]:
    """The ledger row `report` is about, or None and why not."""
    tokens = find_tokens(settings, [report.text])
    if tokens:
        key = settings.require_secret_key()
        old = settings.previous_secret_keys
        ids = [i for i in (verify_token(key, t, previous=old) for t in tokens) if i is not None]
        if not ids:
            return None, "its return-path token is not one we issued (forged or damaged)"
        row = _row(db, "d.id = ?", [ids[0]])
        if row is None:
            return None, "the message its token names is no longer in the ledger (erased?)"
        return _match(row, "token", report.failures), ""
    for message_id in report.message_ids:
        row = _row(db, "d.message_id = ?", [message_id])
        if row is not None:
            return _match(row, "message-id", report.failures), ""
    for failure in sorted(report.failures, key=lambda f: SEVERITY[f.kind]):
        address = failure.recipient.strip().lower()
        if not address:
            continue
        row = _row(
            db,
            "s.email = ? AND d.sent_at IS NOT NULL ORDER BY d.sent_at DESC, d.id DESC LIMIT 1",
            [address],
        )
        if row is not None:
            return _match(row, "address", [failure]), ""
    return None, "it is about no message we sent (an address never mailed?)"


def _match(row: tuple, how: str, failures: list[Failure]) -> Match:
    delivery_id, subscriber_id, list_id, list_name, issue, email = row
    return Match(
        delivery_id, subscriber_id, list_id, list_name, issue, email, how, _worst(failures, email)
    )


def apply_report(
    db: Database, settings: Settings, report: Report, *, source: str, dry_run: bool = False
) -> Decision:
    """Match `report` and record the decision (nothing is written in a dry run)."""
    with transaction(db):
        match, why = match_report(db, settings, report)
        if match is None:
            return Decision("unmatched", why)
        failure = match.failure
        seen = db.execute(
            "SELECT decision FROM bounce_events WHERE report_hash = ? AND delivery_id = ?",
            [report.digest, match.delivery_id],
        ).fetchone()
        about = f"{match.email} on {match.list_name} ({match.issue}, matched by {match.matched_by})"
        if seen is not None:
            return Decision("duplicate", f"{about}: already recorded ({seen[0]})")
        status = db.execute(
            "SELECT status FROM subscriptions WHERE subscriber_id = ? AND list_id = ?",
            [match.subscriber_id, match.list_id],
        ).fetchone()
        current = status[0] if status else "not subscribed"
        decision, changed = _decide(db, settings, match, report, current, dry_run)
        label = {"hard": "hard bounce", "soft": "soft bounce", "complaint": "complaint"}
        text = f"{label[failure.kind]} {failure.status} for {about}: {decision}"
        if failure.diagnostic:
            text += f" - {failure.diagnostic}"
        if not dry_run:
            _insert(db, match, report, decision, source)
        return Decision(failure.kind, text, changed)


def _decide(
    db: Database, settings: Settings, match: Match, report: Report, current: str, dry_run: bool
) -> tuple[str, bool]:
    failure = match.failure
    date = report.reported_at[:10]
    would = "would be " if dry_run else ""
    if failure.kind == "complaint":
        if current not in subscribers.UNSUBSCRIBABLE:
            return f"no change (already {current})", False
        if not dry_run:
            subscribers.unsubscribe(db, match.subscriber_id, match.list_name, channel="complaint")
        return f"{would}unsubscribed from {match.list_name}", True
    if current != "active":
        return f"no change (already {current})", False
    reason = f"{failure.status} {failure.diagnostic} (reported {date})".strip()
    if failure.kind == "soft":
        reached = _soft_limit_reached(db, settings, match, report.reported_at)
        if reached is None:
            return "counted", False
        reason = f"{reached}; the last: {reason}"
    if not dry_run:
        subscribers.mark_bounced(
            db, match.subscriber_id, match.list_name, reply=reason, channel="bounce"
        )
    prefix = "bounced" if failure.kind == "hard" else f"bounced ({reason.split(';')[0]})"
    return f"{would}{prefix}", True


def _soft_limit_reached(
    db: Database, settings: Settings, match: Match, reported_at: str
) -> str | None:
    """Why this soft bounce (counted with the earlier ones since the subscription was last
    made active) ends the subscription, or None: COUNT within DAYS, or ISSUES in a row."""
    count, days, issues = settings.soft_limit
    since = db.execute(
        "SELECT coalesce(log.at, sub.updated) FROM subscriptions sub "
        "LEFT JOIN consent_log log ON log.id = sub.consent_event_id "
        "WHERE sub.subscriber_id = ? AND sub.list_id = ?",
        [match.subscriber_id, match.list_id],
    ).fetchone()[0]
    earlier = db.execute(
        "SELECT issue, reported_at FROM bounce_events WHERE subscriber_id = ? AND list_id = ? "
        "AND kind = 'soft' AND recorded_at >= ?",
        [match.subscriber_id, match.list_id, since],
    ).fetchall()
    events = [*earlier, (match.issue, reported_at)]
    latest = max(_when(at) for _issue, at in events)
    window = [at for _issue, at in events if _when(at) >= latest - dt.timedelta(days=days)]
    if len(window) >= count:
        return f"{len(window)} soft bounces within {days} days"
    recent = [
        issue
        for (issue,) in db.execute(
            "SELECT issue FROM deliveries WHERE subscriber_id = ? AND list_id = ? "
            "AND sent_at IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT ?",
            [match.subscriber_id, match.list_id, issues],
        )
    ]
    bounced = {issue for issue, _at in events}
    if len(recent) >= issues and all(issue in bounced for issue in recent):
        return f"soft bounces on the last {issues} issues in a row"
    return None


def _when(text: str) -> dt.datetime:
    return dt.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)


def _insert(db: Database, match: Match, report: Report, decision: str, source: str) -> None:
    failure = match.failure
    db.execute(
        "INSERT INTO bounce_events (delivery_id, subscriber_id, list_id, issue, kind, status, "
        "diagnostic, reported_at, recorded_at, matched_by, decision, source, report_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            match.delivery_id,
            match.subscriber_id,
            match.list_id,
            match.issue,
            failure.kind,
            failure.status,
            failure.diagnostic,
            report.reported_at,
            utc_now(),
            match.matched_by,
            decision,
            source,
            report.digest,
        ],
    )
