"""Double opt-in: a sign-up starts `pending`, a mailed link confirms it, nothing else is sent.

`start_subscription` behaves the same whatever the address's state (new, pending, active,
unsubscribed, erased), so the web form never reveals whether someone is on the list. Only
lists that already exist can be chosen here; the CLI is the place that creates lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from sqlite_utils import Database

from ..config import Settings
from ..errors import SubscriberError
from ..locale import join_names, translate
from ..store.db import transaction, utc_now
from . import consent
from .subscribers import (
    activate,
    clean_language,
    clean_name,
    list_id,
    normalise_email,
)
from .tokens import consume_token, issue_token


def start_subscription(
    db: Database,
    settings: Settings,
    email: str,
    *,
    name: str | None,
    language: str | None,
    lists: Iterable[str],
    consent_text: str,
    channel: str,
    ip: str | None,
    user_agent: str | None,
    send_mail: Callable[[EmailMessage], None] | None,
    source: str | None = None,
    sender: str | None = None,
    list_names: Iterable[str] = (),
) -> None:
    """Record the request and mail a confirmation link for every chosen list not yet active.

    New people get a `pending` subscription. Existing subscriptions keep their status until the
    link is clicked (so an unconfirmed request cannot undo an unsubscribe, and `purge` never
    forgets one). Erased addresses may sign up again: the suppression goes on confirmation.
    Invalid input raises SubscriberError; nothing about the address's state is returned.
    `sender` and `list_names` (the organisation and the lists as the reader knows them, in
    their language) name them in the confirmation mail; without them, the From name.
    """
    email = normalise_email(email)
    name = clean_name(name)
    language = clean_language(language)
    list_ids = sorted({list_id(db, list_name) for list_name in lists})
    if not list_ids:
        raise SubscriberError("choose at least one list to subscribe to")
    token = None
    with transaction(db):
        text_id = consent.consent_text_id(db, consent_text)
        row = db.execute("SELECT id, name FROM subscribers WHERE email = ?", [email]).fetchone()
        if row is None:
            cursor = db.execute(
                "INSERT INTO subscribers (email, name, language, created) VALUES (?, ?, ?, ?)",
                [email, name, language, utc_now()],
            )
            subscriber_id = cursor.lastrowid
        else:
            subscriber_id, name = row  # never let an unconfirmed request rename someone
        statuses = dict(
            db.execute(
                "SELECT list_id, status FROM subscriptions WHERE subscriber_id = ?",
                [subscriber_id],
            ).fetchall()
        )
        scope = [lid for lid in list_ids if statuses.get(lid) != "active"]
        for lid in scope:
            if lid not in statuses:
                now = utc_now()
                db.execute(
                    "INSERT INTO subscriptions (subscriber_id, list_id, status, created, updated) "
                    "VALUES (?, ?, 'pending', ?, ?)",
                    [subscriber_id, lid, now, now],
                )
            consent.record(
                db,
                "subscribe",
                subscriber_id=subscriber_id,
                list_id=lid,
                channel=channel,
                source=source,
                ip=ip,
                user_agent=user_agent,
                consent_text_id=text_id,
            )
        if scope:
            token = issue_token(
                db,
                "confirm",
                subscriber_id,
                scope[0] if len(scope) == 1 else None,
                ttl_seconds=settings.confirm_ttl_hours * 3600,
                scope=",".join(str(lid) for lid in scope),
            )
    if token is not None and send_mail is not None:
        url = f"{settings.base_url.rstrip('/')}/confirm/{token}"
        send_mail(
            confirmation_message(
                settings, email, name, language, url, sender=sender, list_names=list_names
            )
        )


def confirm(
    db: Database,
    settings: Settings,
    token: str,
    *,
    ip: str | None,
    user_agent: str | None,
    on_activate: Callable[[int, int], None] | None = None,
) -> bool:
    """Activate the subscriptions a confirm link was mailed for; False if the link is unknown,
    expired or used. Each activation is logged with the consent text shown at sign-up.

    `on_activate(subscriber_id, list_id)` runs inside the same transaction for each list this
    click made active (the web app queues the list's welcome issue there)."""
    with transaction(db):
        found = consume_token(db, "confirm", token)
        if found is None:
            return False
        subscriber_id = found["subscriber_id"]
        scope = [int(x) for x in (found["scope"] or str(found["list_id"] or "")).split(",") if x]
        for lid in scope:
            status = db.execute(
                "SELECT status FROM subscriptions WHERE subscriber_id = ? AND list_id = ?",
                [subscriber_id, lid],
            ).fetchone()
            if status is None or status[0] == "active":
                continue
            text = db.execute(
                "SELECT consent_text_id FROM consent_log WHERE subscriber_id = ? AND list_id = ? "
                "AND action = 'subscribe' ORDER BY id DESC LIMIT 1",
                [subscriber_id, lid],
            ).fetchone()
            activate(
                db,
                subscriber_id,
                lid,
                action="confirm",
                channel="web",
                ip=ip,
                user_agent=user_agent,
                consent_text_id=text[0] if text else None,
            )
            if on_activate is not None:
                on_activate(subscriber_id, lid)
        email = db.execute("SELECT email FROM subscribers WHERE id = ?", [subscriber_id]).fetchone()
        if consent.suppressed_hmacs(db, settings, [email[0]]):
            consent.unsuppress(db, settings, email[0])
    return True


def confirmation_message(
    settings: Settings,
    email: str,
    name: str | None,
    language: str,
    confirm_url: str,
    *,
    sender: str | None = None,
    list_names: Iterable[str] = (),
) -> EmailMessage:
    """The plain-text confirmation email: who asked, the link, how long it works. No marketing."""
    language = clean_language(language)
    name = clean_name(name)
    if not confirm_url.startswith(("https://", "http://")) or any(c.isspace() for c in confirm_url):
        raise SubscriberError(f"confirm URL {confirm_url!r} is not an absolute http(s) URL")
    body = translate(
        language,
        "confirm_mail_body",
        sender=sender or sender_name(settings),
        email=email,
        lists_line=_lists_line(language, list_names),
        url=confirm_url,
        hours=settings.confirm_ttl_hours,
        days=settings.pending_retention_days,
    )
    to = mail_address(name, email)
    subject = translate(language, "confirm_mail_subject")
    return service_message(settings, to, language, subject, body)


def _lists_line(language: str, list_names: Iterable[str]) -> str:
    names = [" ".join(str(n).split()) for n in list_names if str(n).strip()]
    if not names:
        return ""
    return " " + translate(language, "confirm_mail_lists", lists=join_names(language, names))


def sender_name(settings: Settings) -> str:
    """How service mails name the sender: the From display name, else the domain."""
    return parseaddr(settings.from_address)[0] or settings.sender_domain


def mail_address(name: str | None, email: str) -> Address:
    """The To: address of a service mail. Built from its parts: `Address(addr_spec=...)` refuses
    an international local part (`åsa.lindström@`, RFC 6531), which such a mail carries as
    UTF-8 (the service outbox sends it with SMTPUTF8)."""
    local, _, domain = email.rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def service_message(
    settings: Settings, to: Address, language: str, subject: str, body: str
) -> EmailMessage:
    """A plain-text service mail (confirmation, download link): no marketing, marked
    auto-generated so that auto-replies stay quiet, in the reader's language."""
    message = EmailMessage()
    message["From"] = settings.require_sender()  # never the placeholder: nobody answers it
    message["To"] = to
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    message["Content-Language"] = language  # after set_content, which drops Content-* headers
    return message
