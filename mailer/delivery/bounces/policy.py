"""What a report means for the list: find the messages it is about, then decide and record.

Matching, most trustworthy first: the VERP token (HMAC-checked), else the original
Message-ID (also derived from the secret key: only that recipient's copy carries it), else the
recipient address, and then only when we have sent that person something. A report with a
token that fails its check is not matched by anything else. Every failed recipient a report
names is matched (a report may name several).

Trust: with VERP on (NEWSLETTER_BOUNCE_ADDRESS set) only a token or a Message-ID proves that a
report answers a message we sent to that person; a recipient matched by address alone is
recorded as `unverified` and never changes a subscription by itself (the rule under which such
reports count is in `unverified`). Without VERP there is nothing to prove with, and the address
decides, as the send plan and `check` warn.

Decisions on verified reports: a permanent failure (5.x.x) marks the subscription `bounced` at
once; temporary failures (4.x.x) are counted and end it at BOUNCE_SOFT_LIMIT; a complaint
unsubscribes from that list (consent log channel `complaint`). Every decision is stored in
`bounce_events`, with the reader that found it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlite_utils import Database

from ...audience import subscribers
from ...config import Settings
from ...store.db import transaction, utc_now
from .findings import Failure, Match, Report
from .unverified import unverified_decision
from .verp import find_tokens, verify_token

SEVERITY = {"complaint": 0, "hard": 1, "soft": 2}


@dataclass
class Decision:
    """What was (or, in a dry run, would be) recorded for one report."""

    outcome: str  # hard | soft | complaint | unverified | duplicate | unmatched
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


def match_report(db: Database, settings: Settings, report: Report) -> tuple[list[Match], str]:
    """The ledger rows `report` is about (the proven ones first), or none and why not."""
    matches: list[Match] = []
    tokens = find_tokens(settings, [report.text])
    if tokens:
        key = settings.require_secret_key()
        old = settings.previous_secret_keys
        ids = [i for i in (verify_token(key, t, previous=old) for t in tokens) if i is not None]
        if not ids:
            return [], "its return-path token is not one we issued (forged or damaged)"
        row = _row(db, "d.id = ?", [ids[0]])
        if row is None:
            return [], "the message its token names is no longer in the ledger (erased?)"
        matches.append(_match(row, "token", report.failures))
    else:
        for message_id in report.message_ids:
            row = _row(db, "d.message_id = ?", [message_id])
            if row is not None and row[0] not in {m.delivery_id for m in matches}:
                matches.append(_match(row, "message-id", report.failures))
    seen = {m.email for m in matches}
    used = [m.failure for m in matches]
    for failure in sorted(report.failures, key=lambda f: SEVERITY[f.kind]):
        address = failure.recipient.strip().lower()
        if not address or address in seen or any(failure is u for u in used):
            continue
        row = _row(
            db,
            "s.email = ? AND d.sent_at IS NOT NULL ORDER BY d.sent_at DESC, d.id DESC LIMIT 1",
            [address],
        )
        if row is not None:
            match = _match(row, "address", [failure])
            match.verified = not settings.bounce_address  # VERP on: an address proves nothing
            matches.append(match)
            seen.add(address)
    if not matches:
        return [], "it is about no message we sent (an address never mailed?)"
    return matches, ""


def _match(row: tuple, how: str, failures: list[Failure]) -> Match:
    delivery_id, subscriber_id, list_id, list_name, issue, email = row
    return Match(
        delivery_id, subscriber_id, list_id, list_name, issue, email, how, _worst(failures, email)
    )


LABELS = {"hard": "hard bounce", "soft": "soft bounce", "complaint": "complaint"}


def apply_report(
    db: Database, settings: Settings, report: Report, *, source: str, dry_run: bool = False
) -> list[Decision]:
    """Match `report` and record a decision for each recipient it is about (nothing is
    written in a dry run)."""
    with transaction(db):
        matches, why = match_report(db, settings, report)
        if not matches:
            return [Decision("unmatched", why)]
        return [_apply(db, settings, report, match, source, dry_run) for match in matches]


def _apply(
    db: Database, settings: Settings, report: Report, match: Match, source: str, dry_run: bool
) -> Decision:
    failure = match.failure
    seen = db.execute(
        "SELECT decision FROM bounce_events WHERE report_hash = ? AND delivery_id = ?",
        [report.digest, match.delivery_id],
    ).fetchone()
    reader = failure.reader or report.reader or "?"
    about = f"{match.email} on {match.list_name} ({match.issue}, matched by {match.matched_by})"
    if seen is not None:
        return Decision("duplicate", f"{about}: already recorded ({seen[0]})")
    status = db.execute(
        "SELECT status FROM subscriptions WHERE subscriber_id = ? AND list_id = ?",
        [match.subscriber_id, match.list_id],
    ).fetchone()
    current = status[0] if status else "not subscribed"
    if match.verified:
        decision, changed = _decide(db, settings, match, report, current, dry_run)
        outcome = failure.kind
    else:
        decision = unverified_decision(db, settings, match, current, dry_run)
        changed, outcome = False, "unverified"
    text = f"{LABELS[failure.kind]} {failure.status} for {about}: {decision}"
    if failure.diagnostic:
        text += f" - {failure.diagnostic}"
    text += f" [read by {reader}]"
    if not dry_run:
        _insert(db, match, report, decision, source)
    return Decision(outcome, text, changed)


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
        "AND kind = 'soft' AND unverified = 0 AND recorded_at >= ?",
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
        "diagnostic, reported_at, recorded_at, matched_by, decision, source, report_hash, "
        "unverified, reader) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            0 if match.verified else 1,
            failure.reader or report.reader or None,
        ],
    )
