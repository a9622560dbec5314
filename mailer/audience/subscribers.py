"""Subscribers and lists: who gets an issue, unsubscribes, bounces, profile changes.

Input checks (addresses, names, languages, list names) live in `subscriber_fields` and are
re-exported here, so `subscribers.normalise_email` is the one name everyone uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from sqlite_utils import Database

from ..config import DEFAULT_LIST
from ..errors import SubscriberError
from ..locale import LANGUAGES
from ..store.db import transaction, utc_now
from . import consent, journal
from .subscriber_fields import (
    DEFAULT_LANGUAGE,
    clean_language,
    clean_list_name,
    clean_name,
    normalise_email,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "DEFAULT_LIST",
    "LANGUAGES",
    "Recipient",
    "activate",
    "active_consent_event",
    "active_recipients",
    "clean_language",
    "clean_list_name",
    "clean_name",
    "ensure_list",
    "get_subscriber",
    "list_id",
    "mark_bounced",
    "normalise_email",
    "require_subscriber",
    "unsubscribe",
    "update_profile",
]

# subscriptions in these states receive nothing and are changed by an unsubscribe
UNSUBSCRIBABLE = ("active", "pending", "bounced", "complained")


class Recipient(NamedTuple):
    """One person to send an issue to, and the consent event that allows it."""

    subscriber_id: int
    email: str
    name: str
    language: str
    list_id: int
    consent_event_id: int | None


def clean_list_title(name: str, title: str | None) -> str:
    """A list's title, checked like a person's name (it goes into List-Id headers and pages)."""
    try:
        return clean_name(title)
    except SubscriberError as exc:
        raise SubscriberError(f"list {name}: the title is refused: {exc}") from None


def ensure_list(db: Database, name: str, title: str | None = None) -> int:
    """The id of list `name`, creating it if needed (the CLI creates lists on first use).
    The title goes into List-Id headers and pages: line breaks are refused like in names."""
    name = clean_list_name(name)
    title = clean_list_title(name, title) or None
    with transaction(db):
        row = db.execute("SELECT id FROM lists WHERE name = ?", [name]).fetchone()
        if row:
            return row[0]
        cursor = db.execute(
            "INSERT INTO lists (name, title, created) VALUES (?, ?, ?)", [name, title, utc_now()]
        )
        return cursor.lastrowid


def list_id(db: Database, name: str) -> int:
    """The id of an existing list; an unknown list is an error (web and opt-in never create)."""
    row = db.execute("SELECT id FROM lists WHERE name = ?", [clean_list_name(name)]).fetchone()
    if row is None:
        known = ", ".join(r[0] for r in db.execute("SELECT name FROM lists ORDER BY name"))
        raise SubscriberError(f"unknown list {name!r} (lists: {known or 'none yet'})")
    return row[0]


def get_subscriber(db: Database, email: str) -> dict | None:
    """The subscriber with this address and their list statuses, or None."""
    row = db.execute(
        "SELECT id, email, name, language, created FROM subscribers WHERE email = ?",
        [normalise_email(email)],
    ).fetchone()
    if row is None:
        return None
    subscriber = dict(zip(("id", "email", "name", "language", "created"), row, strict=True))
    subscriber["subscriptions"] = {
        name: status
        for name, status in db.execute(
            "SELECT lists.name, subscriptions.status FROM subscriptions "
            "JOIN lists ON lists.id = subscriptions.list_id "
            "WHERE subscriber_id = ? ORDER BY lists.name",
            [row[0]],
        )
    }
    return subscriber


def require_subscriber(db: Database, email: str) -> dict:
    """Like get_subscriber, for coordinator commands where a missing person is an error."""
    subscriber = get_subscriber(db, email)
    if subscriber is None:
        raise SubscriberError(f"no subscriber with the address {normalise_email(email)}")
    return subscriber


def active_recipients(db: Database, list_name: str) -> Iterator[Recipient]:
    """Everyone whose subscription to `list_name` is active, streamed in subscriber order."""
    list_pk = list_id(db, list_name)
    cursor = db.execute(
        "SELECT s.id, s.email, s.name, s.language, sub.list_id, sub.consent_event_id "
        "FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id "
        "WHERE sub.list_id = ? AND sub.status = 'active' ORDER BY s.id",
        [list_pk],
    )
    for row in cursor:
        yield Recipient(*row)


def active_consent_event(db: Database, subscriber_id: int, list_name: str) -> int | None:
    """The consent event behind an active subscription, or None if it is not active any more."""
    row = db.execute(
        "SELECT sub.consent_event_id FROM subscriptions sub JOIN lists ON lists.id = sub.list_id "
        "WHERE sub.subscriber_id = ? AND lists.name = ? AND sub.status = 'active'",
        [subscriber_id, list_name],
    ).fetchone()
    return None if row is None else row[0]


WITHDRAWN = ("unsubscribed", "complained", "bounced")  # statuses a restore must not undo


def _withdrawal(db: Database, subscriber_id: int, list_name: str, status: str) -> dict:
    """A journal entry for a subscription that stopped: the row, never the address."""
    (created,) = db.execute(
        "SELECT created FROM subscribers WHERE id = ?", [subscriber_id]
    ).fetchone()
    return {
        "action": "withdraw",
        "subscriber": subscriber_id,
        "created": created,
        "list": list_name,
        "status": status,
    }


def _set_status(
    db: Database,
    subscriber_id: int,
    list_name: str | None,
    *,
    from_statuses: Iterable[str],
    to_status: str,
    action: str,
    channel: str,
    lawful_basis: str,
    ip: str | None = None,
    user_agent: str | None = None,
    detail: str | None = None,
) -> list[str]:
    """Move matching subscriptions to `to_status`, one log event each; returns the list names."""
    from_statuses = tuple(from_statuses)
    marks = ", ".join("?" for _ in from_statuses)
    sql = (
        "SELECT sub.id, sub.list_id, lists.name FROM subscriptions sub "  # noqa: S608 - only placeholders or fixed names are formatted in
        f"JOIN lists ON lists.id = sub.list_id WHERE sub.subscriber_id = ? AND status IN ({marks})"
    )
    params: list = [subscriber_id, *from_statuses]
    if list_name is not None:
        sql += " AND lists.name = ?"
        params.append(clean_list_name(list_name))
    changed = []
    with transaction(db):
        for sub_id, list_pk, name in db.execute(sql + " ORDER BY lists.name", params).fetchall():
            now = utc_now()
            db.execute(
                "UPDATE subscriptions SET status = ?, updated = ? WHERE id = ?",
                [to_status, now, sub_id],
            )
            consent.record(
                db,
                action,
                subscriber_id=subscriber_id,
                list_id=list_pk,
                channel=channel,
                ip=ip,
                user_agent=user_agent,
                lawful_basis=lawful_basis,
                detail=detail,
            )
            changed.append(name)
            if to_status in WITHDRAWN:
                journal.append(db, _withdrawal(db, subscriber_id, name, to_status))
        if changed and action == "unsubscribe":
            # a confirm link mailed earlier must not undo a withdrawal
            db.execute(
                "UPDATE tokens SET used_at = ? WHERE subscriber_id = ? AND purpose = 'confirm' "
                "AND used_at IS NULL",
                [utc_now(), subscriber_id],
            )
    return changed


def unsubscribe(
    db: Database,
    subscriber_id: int,
    list_name: str | None,
    *,
    channel: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> list[str]:
    """Withdraw consent for one list (None = all); returns the lists changed, [] on a repeat."""
    return _set_status(
        db,
        subscriber_id,
        list_name,
        from_statuses=UNSUBSCRIBABLE,
        to_status="unsubscribed",
        action="unsubscribe",
        channel=channel,
        lawful_basis="consent",
        ip=ip,
        user_agent=user_agent,
    )


REAPPLY_ACTIONS = {"unsubscribed": "unsubscribe", "complained": "complaint", "bounced": "bounce"}


def reapply_withdrawal(
    db: Database, subscriber_id: int, created: str, list_name: str, status: str
) -> int:
    """A restore re-applies a withdrawal the journal holds (the same row: id and creation
    time); returns the number of subscriptions changed (0 when already withdrawn)."""
    row = db.execute(
        "SELECT 1 FROM subscribers WHERE id = ? AND created = ?", [subscriber_id, created]
    ).fetchone()
    if row is None or status not in REAPPLY_ACTIONS:
        return 0
    changed = _set_status(
        db,
        subscriber_id,
        list_name,
        from_statuses=("pending", "active"),
        to_status=status,
        action=REAPPLY_ACTIONS[status],
        channel="restore",
        lawful_basis="consent" if status == "unsubscribed" else "legitimate_interest",
        detail="re-applied from the erasure journal after a restore",
    )
    return len(changed)


def mark_bounced(
    db: Database, subscriber_id: int, list_name: str | None, *, reply: str, channel: str = "smtp"
) -> list[str]:
    """Stop sending to an address the receiving server refused permanently (the reply is kept
    in the log until erasure, as the reason). `channel` says how we learnt it: 'smtp' (our own
    session was refused) or 'bounce' (a report mailed back). Returns the lists changed."""
    return _set_status(
        db,
        subscriber_id,
        list_name,
        from_statuses=("active",),
        to_status="bounced",
        action="bounce",
        channel=channel,
        lawful_basis="legitimate_interest",
        detail=reply[:1000],
    )


def update_profile(
    db: Database,
    subscriber_id: int,
    *,
    name: str | None = None,
    language: str | None = None,
    lists: Iterable[str] | None = None,
    channel: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> list[str]:
    """Rectify name or language and set which lists are active (`lists` = the full wanted set,
    None = leave them). Every change is a log event; returns what changed, e.g. ['name', '+events'].

    Activating a list here needs no double opt-in: the caller reached this through a token
    mailed to the address (a preferences link), which proves the mailbox."""
    changes: list[str] = []
    new_name = None if name is None else clean_name(name)
    new_language = None if language is None else clean_language(language)
    wanted = None if lists is None else {list_id(db, n): clean_list_name(n) for n in lists}
    with transaction(db):
        row = db.execute(
            "SELECT name, language FROM subscribers WHERE id = ?", [subscriber_id]
        ).fetchone()
        if row is None:
            raise SubscriberError(f"no subscriber with id {subscriber_id}")
        for field, old, new in (("name", row[0], new_name), ("language", row[1], new_language)):
            if new is not None and new != old:
                db.execute(f"UPDATE subscribers SET {field} = ? WHERE id = ?", [new, subscriber_id])  # noqa: S608 - only placeholders or fixed names are formatted in
                consent.record(
                    db,
                    "rectify",
                    subscriber_id=subscriber_id,
                    list_id=None,
                    channel=channel,
                    ip=ip,
                    user_agent=user_agent,
                    detail=field,
                )
                changes.append(field)
        if wanted is None:
            return changes
        current = dict(
            db.execute(
                "SELECT list_id, status FROM subscriptions WHERE subscriber_id = ?",
                [subscriber_id],
            ).fetchall()
        )
        for list_pk, list_name in sorted(wanted.items(), key=lambda item: item[1]):
            if current.get(list_pk) != "active":
                activate(
                    db,
                    subscriber_id,
                    list_pk,
                    action="subscribe",
                    channel=channel,
                    ip=ip,
                    user_agent=user_agent,
                    detail="preferences",
                )
                changes.append(f"+{list_name}")
        for list_pk, status in current.items():
            if list_pk not in wanted and status in UNSUBSCRIBABLE:
                name_of_list = db.execute(
                    "SELECT name FROM lists WHERE id = ?", [list_pk]
                ).fetchone()[0]
                changes += [
                    f"-{n}"
                    for n in unsubscribe(
                        db,
                        subscriber_id,
                        name_of_list,
                        channel=channel,
                        ip=ip,
                        user_agent=user_agent,
                    )
                ]
    return changes


def activate(
    db: Database,
    subscriber_id: int,
    list_pk: int,
    *,
    action: str,
    channel: str,
    source: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    consent_text_id: int | None = None,
    detail: str | None = None,
) -> int:
    """Make one subscription active (creating it if needed) and point it at the new consent
    event; returns that event's id. Callers decide whether activation is allowed."""
    with transaction(db):
        event_id = consent.record(
            db,
            action,
            subscriber_id=subscriber_id,
            list_id=list_pk,
            channel=channel,
            source=source,
            ip=ip,
            user_agent=user_agent,
            lawful_basis="consent",
            consent_text_id=consent_text_id,
            detail=detail,
        )
        now = utc_now()
        db.execute(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated, "
            "consent_event_id) VALUES (?, ?, 'active', ?, ?, ?) "
            "ON CONFLICT (subscriber_id, list_id) DO UPDATE SET status = 'active', "
            "updated = excluded.updated, consent_event_id = excluded.consent_event_id",
            [subscriber_id, list_pk, now, now, event_id],
        )
    return event_id
