"""The coordinator's view of the list: add one person, list, export, unsubscribe, statistics.

These back the `newsletter subscribers ...` commands. Unlike the web functions they may say
plainly what state an address is in: only the coordinator runs them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import TextIO

from sqlite_utils import Database

from ..config import Settings
from ..errors import SubscriberError
from ..store.db import transaction, utc_now
from . import consent, fields
from .migrations import STATUSES
from .subscribers import (
    DEFAULT_LIST,
    activate,
    clean_language,
    clean_list_name,
    clean_name,
    ensure_list,
    list_id,
    normalise_email,
    require_subscriber,
    unsubscribe,
)

REFUSED_ERASED = (
    "{email} was erased on request and is on the suppression list; it can only come back by "
    "signing up itself through the web form (double opt-in)"
)
EXPORT_FIELDS = ("email", "name", "language", "created", "list", "status", "updated")


def add_subscriber(
    db: Database,
    settings: Settings,
    email: str,
    *,
    name: str | None = None,
    list_name: str = DEFAULT_LIST,
    language: str | None = None,
    source: str | None = None,
) -> str:
    """Add one person as active on a list (created if missing); returns what happened.

    The coordinator vouches for the consent (`source` says where it was given). Refused: erased
    addresses; never reactivated: people who unsubscribed, bounced or complained."""
    email = normalise_email(email)
    name = clean_name(name)
    language = clean_language(language)
    list_name = clean_list_name(list_name)
    source = clean_name(source) or None
    with transaction(db):
        if consent.is_suppressed(db, settings, email):
            raise SubscriberError(REFUSED_ERASED.format(email=email))
        list_pk = ensure_list(db, list_name)
        row = db.execute("SELECT id FROM subscribers WHERE email = ?", [email]).fetchone()
        if row is None:
            subscriber_id = db.execute(
                "INSERT INTO subscribers (email, name, language, created) VALUES (?, ?, ?, ?)",
                [email, name, language, utc_now()],
            ).lastrowid
        else:
            subscriber_id = row[0]
        status = db.execute(
            "SELECT status, updated FROM subscriptions WHERE subscriber_id = ? AND list_id = ?",
            [subscriber_id, list_pk],
        ).fetchone()
        if status is None:
            activate(db, subscriber_id, list_pk, action="add", channel="cli", source=source)
            return f"{email}: added to {list_name}"
    if status[0] == "active":
        return f"{email}: already subscribed to {list_name}; nothing changed"
    if status[0] == "pending":
        return f"{email}: awaiting their own confirmation for {list_name}; nothing changed"
    raise SubscriberError(
        f"{email} is {status[0]} on {list_name} since {status[1][:10]}; an add never "
        "re-subscribes anyone: they can sign up again through the web form"
    )


def list_subscribers(
    db: Database, list_name: str | None = None, status: str | None = None
) -> Iterator[dict]:
    """Subscriptions (one row per person and list), streamed, optionally filtered."""
    if status is not None and status not in STATUSES:
        raise SubscriberError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    where, params = [], []
    if list_name is not None:
        where.append("sub.list_id = ?")
        params.append(list_id(db, list_name))
    if status is not None:
        where.append("sub.status = ?")
        params.append(status)
    sql = (
        "SELECT s.email, s.name, s.language, s.created, lists.name, sub.status, sub.updated "
        "FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id "
        "JOIN lists ON lists.id = sub.list_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    for row in db.execute(sql + " ORDER BY s.email, lists.name", params):
        yield dict(zip(EXPORT_FIELDS, row, strict=True))


def write_export(db: Database, out: TextIO, fmt: str = "csv") -> int:
    """Write every subscription as CSV (with header) or a JSON array; returns rows written.

    In CSV, a name starting with = + - @ gets a leading apostrophe so a spreadsheet shows it
    as text instead of running it as a formula (CSV injection); JSON keeps it as it is."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in list_subscribers(db):
            if row["name"].startswith(("=", "+", "-", "@")):
                row["name"] = "'" + row["name"]
            writer.writerow(row)
            count += 1
    elif fmt == "json":
        out.write("[")
        for row in list_subscribers(db):
            out.write(("\n" if count == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
            count += 1
        out.write("\n]\n")
    else:
        raise SubscriberError(f"unknown export format {fmt!r}; use csv or json")
    return count


def unsubscribe_address(db: Database, email: str, list_name: str | None = None) -> list[str]:
    """Unsubscribe a person by address from one list or all; returns the lists changed."""
    subscriber = require_subscriber(db, email)
    if list_name is not None:
        list_id(db, list_name)  # unknown list: a clear error rather than "nothing changed"
    return unsubscribe(db, subscriber["id"], list_name, channel="cli")


REACTIVATE_CHANNEL = "cli"
RATE_DAYS = 30  # the window of `subscribers stats`' bounce and complaint rates
BOUNCE_RATE_WARNING = 0.02  # above this share of messages bouncing, providers start to block
COMPLAINT_RATE_WARNING = 0.001  # Gmail and Yahoo: keep complaints under 0.3 %, aim < 0.1 %


def reactivate_address(db: Database, email: str, list_name: str | None = None) -> list[str]:
    """Undo a bounce or a complaint (a report that was wrong, a mailbox that works again):
    bounced subscriptions, and those a complaint unsubscribed, become active again with a
    'reactivate' consent event. Returns the lists changed. People who unsubscribed themselves
    are left alone: only they can undo that."""
    subscriber = require_subscriber(db, email)
    list_pk = None if list_name is None else list_id(db, list_name)
    changed = []
    with transaction(db):
        rows = db.execute(
            "SELECT sub.list_id, lists.name, sub.status, (SELECT log.channel FROM consent_log log "
            "WHERE log.subscriber_id = sub.subscriber_id AND log.list_id = sub.list_id "
            "ORDER BY log.id DESC LIMIT 1) FROM subscriptions sub "
            "JOIN lists ON lists.id = sub.list_id "
            "WHERE sub.subscriber_id = ? AND (? IS NULL OR sub.list_id = ?) ORDER BY lists.name",
            [subscriber["id"], list_pk, list_pk],
        ).fetchall()
        for pk, name, status, channel in rows:
            if status == "bounced" or (status == "unsubscribed" and channel == "complaint"):
                activate(
                    db,
                    subscriber["id"],
                    pk,
                    action="reactivate",
                    channel=REACTIVATE_CHANNEL,
                    detail=f"was {status}"
                    + (" after a complaint" if channel == "complaint" else ""),
                )
                changed.append(name)
    return changed


def delivery_rates(db: Database, days: int = RATE_DAYS) -> dict[str, dict]:
    """Per list, over the last `days`: messages handed over, how many bounced (refused in our
    SMTP session, or reported back hard or soft) and how many drew a complaint, as shares,
    with a warning above the thresholds the big providers watch; reports that proved nothing
    (`unverified`: no VERP token or Message-ID) are counted apart, never in the rates. The send
    wing's tables are read here with plain SQL (an audience module imports no delivery code)."""
    if not (db["deliveries"].exists() and db["bounce_events"].exists()):
        return {}
    rows = db.execute(
        "SELECT lists.name, count(*), "
        "sum(d.state = 'failed' OR EXISTS (SELECT 1 FROM bounce_events b WHERE "
        "b.delivery_id = d.id AND b.kind IN ('hard', 'soft') AND b.unverified = 0)), "
        "sum(EXISTS (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id "
        "AND b.kind = 'complaint' AND b.unverified = 0)), "
        "sum(EXISTS (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id "
        "AND b.unverified = 1)) "
        "FROM deliveries d JOIN lists ON lists.id = d.list_id "
        "WHERE d.state IN ('sent', 'failed') AND coalesce(d.sent_at, d.updated_at) >= ? "
        "GROUP BY lists.name ORDER BY lists.name",
        [utc_now(-days * 86400)],
    ).fetchall()
    rates = {}
    for name, messages, bounces, complaints, unverified in rows:
        bounce_rate, complaint_rate = bounces / messages, complaints / messages
        warnings = []
        if bounce_rate > BOUNCE_RATE_WARNING:
            warnings.append(
                f"{name}: {bounce_rate:.1%} of messages bounced (over 2 %): mail providers "
                "start refusing senders whose lists have dead addresses"
            )
        if complaint_rate > COMPLAINT_RATE_WARNING:
            warnings.append(
                f"{name}: {complaint_rate:.2%} of messages were reported as spam (over 0.1 %; "
                "Gmail and Yahoo block above 0.3 %)"
            )
        rates[name] = {
            "messages": messages,
            "bounces": bounces,
            "complaints": complaints,
            "bounce_rate": bounce_rate,
            "complaint_rate": complaint_rate,
            "unverified": unverified,
            "warnings": warnings,
        }
    return rates


def stats(db: Database, settings: Settings) -> dict:
    """Counts per list and status, people, suppressions, pending sign-ups due for purge, and
    service mail waiting or failed; bounce and complaint rates of the last RATE_DAYS days."""
    per_list: dict[str, dict[str, int]] = {}
    for name, status, count in db.execute(
        "SELECT lists.name, sub.status, count(*) FROM lists "
        "LEFT JOIN subscriptions sub ON sub.list_id = lists.id "
        "GROUP BY lists.name, sub.status ORDER BY lists.name"
    ):
        counts = per_list.setdefault(name, dict.fromkeys(STATUSES, 0))
        if status is not None:
            counts[status] = count
    return {
        "lists": per_list,
        "subscribers": db.execute("SELECT count(*) FROM subscribers").fetchone()[0],
        "suppressions": db.execute("SELECT count(*) FROM suppressions").fetchone()[0],
        "consent_events": db.execute("SELECT count(*) FROM consent_log").fetchone()[0],
        "pending_retention_days": settings.pending_retention_days,
        "rates": delivery_rates(db),
        "rate_days": RATE_DAYS,
        "service_mail": service_mail_stats(db),
    }


def set_subscriber_fields(db: Database, email: str, assignments: list[str]) -> dict[str, str]:
    """`subscribers set EMAIL field=value ...`: set custom fields (`field=` removes one).
    Each change is a `rectify` event naming the field (not its value, which the person's
    record holds); returns the fields after the change."""
    wanted: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals:
            raise SubscriberError(
                f"{assignment!r}: write field=value (e.g. län=Örebro), or field= to remove it"
            )
        name = fields.clean_field_name(name)
        wanted[name] = fields.clean_field_value(name, value)
    if not wanted:
        raise SubscriberError("nothing to set: give one or more field=value")
    with transaction(db):
        person = require_subscriber(db, email)["id"]
        current = fields.fields_of(db, person)
        changed = {n: v for n, v in wanted.items() if current.get(n, "") != v}
        fields.set_fields(db, person, changed)
        for name in sorted(changed):
            consent.record(
                db,
                "rectify",
                subscriber_id=person,
                list_id=None,
                channel="cli",
                detail=f"field:{name}",
            )
        return fields.fields_of(db, person)


def service_mail_stats(db: Database, shown: int = 10) -> dict:
    """Service mail (confirmations, links, welcomes) waiting in the outbox or failed for good,
    read from the delivery wing's `service_mail` table as plain rows: per kind, the oldest
    waiting row and its last reply, and the latest `shown` failures with their replies."""
    result: dict = {"waiting": {}, "failed": {}, "oldest_waiting": None, "failures": []}
    if not db["service_mail"].exists():
        return result
    for state, kind, count in db.execute(
        "SELECT state, kind, count(*) FROM service_mail WHERE state IN ('waiting', 'failed') "
        "GROUP BY state, kind ORDER BY state, kind"
    ):
        result[state][kind] = count
    oldest = db.execute(
        "SELECT kind, created, attempts, last_reply FROM service_mail WHERE state = 'waiting' "
        "ORDER BY created, id LIMIT 1"
    ).fetchone()
    if oldest:
        result["oldest_waiting"] = dict(
            zip(("kind", "created", "attempts", "last_reply"), oldest, strict=True)
        )
    result["failures"] = [
        dict(zip(("kind", "recipient", "updated", "last_reply"), row, strict=True))
        for row in db.execute(
            "SELECT kind, recipient, updated, last_reply FROM service_mail "
            "WHERE state = 'failed' ORDER BY updated DESC, id DESC LIMIT ?",
            [shown],
        )
    ]
    return result


SERVICE_MAIL_LABELS = {
    "signup": "sign-up",
    "confirmation": "confirmation",
    "export_link": "data-download link",
    "erasure_link": "erasure link",
    "welcome": "welcome",
    "bounce_notice": "bounce notice",
}


def format_service_mail(summary: dict) -> list[str]:
    """`service_mail_stats` as the lines `subscribers stats` prints."""

    def part(state: str) -> str:
        kinds = summary[state]
        total = sum(kinds.values())
        if not total:
            return f"nothing {state}"
        each = ", ".join(f"{n} {SERVICE_MAIL_LABELS.get(k, k)}" for k, n in kinds.items())
        return f"{total} {state} ({each})"

    lines = [f"Service mail: {part('waiting')}, {part('failed')}"]
    oldest = summary["oldest_waiting"]
    if oldest:
        reply = f", last reply: {oldest['last_reply']}" if oldest["last_reply"] else ""
        lines.append(
            f"  oldest waiting: {SERVICE_MAIL_LABELS.get(oldest['kind'], oldest['kind'])} "
            f"since {oldest['created'][:16].replace('T', ' ')} UTC, "
            f"{oldest['attempts']} attempt{'' if oldest['attempts'] == 1 else 's'}{reply}"
        )
    for row in summary["failures"]:
        lines.append(
            f"  failed: {SERVICE_MAIL_LABELS.get(row['kind'], row['kind'])} to "
            f"{row['recipient']} at {row['updated'][:16].replace('T', ' ')} UTC: "
            f"{row['last_reply']}"
        )
    return lines


def format_subject(document: dict) -> str:
    """A short human summary of `consent.export_subject` for `show` without --json."""
    profile = document["profile"]
    out = io.StringIO()
    out.write(
        f"{profile['email']}  {profile['name'] or '(no name)'}  language {profile['language']}"
    )
    out.write(f"  since {profile['created'][:10]}\n")
    for name, value in document.get("fields", {}).items():
        out.write(f"  {name}: {value}\n")
    for sub in document["subscriptions"]:
        out.write(f"  {sub['list']}: {sub['status']} (since {sub['updated'][:10]})\n")
    out.write(f"  {len(document['consent_history'])} consent events:\n")
    for event in document["consent_history"]:
        where = event["channel"] + (f" ({event['source']})" if event["source"] else "")
        out.write(f"    {event['at'][:19]}  {event['action']:<11} {event['list'] or '-':<14}")
        out.write(f" {where}\n")
    for event in document.get("bounces", []):
        kind = event["kind"] + (" (unverified)" if event.get("unverified") else "")
        out.write(
            f"    {event['reported_at'][:10]}  {kind:<9} {event['status']:<6} "
            f"{event['issue']} on {event['list'] or '-'}: {event['decision']}"
            + (f" - {event['diagnostic']}" if event["diagnostic"] else "")
            + (f" [read by {event['reader']}]" if event.get("reader") else "")
            + "\n"
        )
    out.write(f"  {len(document['issues_sent'])} issues sent\n")
    for row in document.get("deliveries", []):
        if row["state"] != "sent":  # what went wrong is held too, and asked about
            reply = f": {row['last_reply']}" if row.get("last_reply") else ""
            out.write(f"    {row['issue']}: {row['state']}{reply}\n")
    return out.getvalue()
