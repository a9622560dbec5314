""" "My subscription": change name, language and lists; download my data; erase me.

The preferences link in every newsletter never expires, and newsletters get forwarded, so it
must neither hand out the access document nor erase anyone: its "E-mail me my data" and "E-mail
me a link to erase my data" mail a short-lived link to the subscriber's own address instead (as
listmonk does). That link carries a `preferences` token with scope `export` or `erase`, valid
for an hour and once; its GET shows a button (mail scanners follow links), the button's POST
downloads or erases. A scoped token opens nothing but its own step.
"""

from __future__ import annotations

import json
import logging
from email.message import EmailMessage

from flask import Blueprint, abort, current_app, g, request

from ..audience.consent import erase_subscriber, export_subject
from ..audience.optin import mail_address, service_message
from ..audience.subscribers import clean_language, update_profile
from ..audience.tokens import consume_token, issue_token, issued_since, release_token
from ..config import Settings
from ..delivery.service_mail import queue_mail
from ..errors import DatabaseError, SubscriberError
from ..locale import LANGUAGES, translate
from .context import link, render_page, set_language, site_name
from .csrf import check_csrf
from .database import get_db, write_transaction, writing
from .lookup import (
    TokenOwner,
    lists_for,
    mask_email,
    statuses,
    subscriber_by_id,
    token_owner_or_404,
)

bp = Blueprint("preferences", __name__, url_prefix="/preferences")

RECEIVING = ("active", "pending")
EXPORT_SCOPE = "export"  # tokens.scope of the mailed download link
ERASE_SCOPE = "erase"  # tokens.scope of the mailed erasure link
LINK_TTL_SECONDS = 3600  # how long a mailed link works
# At most one mail per person and scope in this time. Per scope, so that asking for the data
# and then for erasure (a likely order) is not answered "sent" while no erasure link went out;
# whoever holds a forwarded newsletter can still cause at most two mails in ten minutes.
LINK_MAIL_INTERVAL_SECONDS = 600
log = logging.getLogger(__name__)


def _client() -> dict:
    return {"ip": request.remote_addr, "user_agent": request.user_agent.string or None}


def _page(owner: TokenOwner, token: str, *, saved: bool = False, error: bool = False):
    db = get_db()
    current = statuses(db, owner.subscriber["id"])
    status = 400 if error else 200
    return render_page(
        "preferences.html",
        status,
        token=token,
        subscriber=owner.subscriber,
        lists=lists_for(db, owner.subscriber["id"]),
        receiving={name for name, s in current.items() if s in RECEIVING},
        saved=saved,
        error=error,
    )


@bp.get("/<token>")
def show(token: str):
    owner = _owner(get_db(), token)
    set_language(owner.subscriber["language"])
    return _page(owner, token)


@bp.post("/<token>")
def save(token: str):
    db = get_db()
    owner = _owner(db, token)
    check_csrf()
    language = request.form.get("language", "")
    known = {info.name for info in lists_for(db, owner.subscriber["id"])}
    try:
        with write_transaction(db):
            update_profile(
                db,
                owner.subscriber["id"],
                name=request.form.get("name", "").strip(),
                language=language if language in LANGUAGES else None,
                lists=[n for n in request.form.getlist("lists") if n in known],
                channel="web",
                **_client(),
            )
    except SubscriberError:
        set_language(owner.subscriber["language"])
        return _page(owner, token, error=True)
    owner = _owner(db, token)
    set_language(owner.subscriber["language"])
    return _page(owner, token, saved=True)


@bp.post("/<token>/export")
def export(token: str):
    """With the newsletter's preferences token: mail a download link to the subscriber and say
    so (never the data). With the mailed link's token: the access document (the same as
    `subscribers show --json`) as a download, once."""
    db = get_db()
    owner = _owner(db, token, EXPORT_SCOPE)
    check_csrf()
    if owner.token["scope"] is None:
        return _mail_link(owner, token, EXPORT_SCOPE, "preferences.export_ask")
    with write_transaction(db):
        if consume_token(db, "preferences", token) is None:
            abort(404)  # used by a concurrent click, or expired since the lookup
        document = export_subject(db, owner.subscriber["id"])
    response = current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@bp.get("/<token>/export")
def export_ask(token: str):
    """Only shows a button, because mail scanners follow links: with the mailed link's token
    the Download button; with the newsletter's token the "E-mail me my data" button (where the
    language links of the page saying a link was sent lead)."""
    owner = _owner(get_db(), token, EXPORT_SCOPE)
    set_language(owner.subscriber["language"])
    return render_page(
        "export.html",
        token=token,
        mailed=owner.token["scope"] == EXPORT_SCOPE,
        masked_email=mask_email(owner.subscriber["email"]),
    )


@bp.get("/<token>/erase")
def erase_ask(token: str):
    """A GET never erases. With the newsletter's token: what erasure does and the "E-mail me a
    link to erase my data" button. With the mailed link's token: "Erase all your data?" and
    the Yes button."""
    owner = _owner(get_db(), token, ERASE_SCOPE)
    set_language(owner.subscriber["language"])
    return render_page(
        "erase.html",
        token=token,
        subscriber=owner.subscriber,
        mailed=owner.token["scope"] == ERASE_SCOPE,
        masked_email=mask_email(owner.subscriber["email"]),
    )


@bp.post("/<token>/erase")
def erase(token: str):
    """With the newsletter's preferences token: mail an erasure link to the subscriber and say
    so (nothing is erased). With the mailed link's token: erase the person, once."""
    db = get_db()
    owner = _owner(db, token, ERASE_SCOPE)
    check_csrf()
    if owner.token["scope"] is None:
        return _mail_link(owner, token, ERASE_SCOPE, "preferences.erase_ask")
    set_language(owner.subscriber["language"])
    lang = g.lang
    subscriber_id = owner.subscriber["id"]
    with writing():  # erasure rewrites the file afterwards, so it runs outside a transaction
        used = consume_token(db, "preferences", token)
        if used is None:
            abort(404)  # used by a concurrent click (in any process), or expired since the lookup
        try:
            erase_subscriber(db, current_app.config["SETTINGS"], subscriber_id, channel="web")
        except Exception as exc:
            if subscriber_by_id(db, subscriber_id) is not None:
                _unuse(db, used["id"])  # not erased: the error page, and the link works again
                raise
            if not isinstance(exc, DatabaseError):
                raise
            # erased and committed; only the scrub of the WAL had to wait for another reader
            log.warning(
                "a web erasure is done, but a reader kept old pages in the -wal file; run "
                "`newsletter subscribers purge` when the sender is idle"
            )
    g.lang = lang
    return render_page("erased.html")


def _unuse(db, token_id: int) -> None:
    """The erasure failed and changed nothing: the link works again (best effort)."""
    try:
        release_token(db, token_id)
    except DatabaseError:
        log.warning("an erasure link could not be made usable again after a failed erasure")


def _owner(db, token: str, scope: str | None = None) -> TokenOwner:
    """The owner of a newsletter's preferences token, or of a mailed link with `scope`; any
    other token is a 404 (so a mailed link opens nothing but its own step)."""
    owner = token_owner_or_404(db, "preferences", token)
    if owner.token["scope"] not in (None, scope):
        abort(404)
    return owner


def _mail_link(owner: TokenOwner, token: str, scope: str, endpoint: str):
    """Issue a `scope` token valid for an hour and mail its link (to `endpoint`) to the
    subscriber, at most once per interval and scope (counted in the tokens table, so it holds
    across worker processes and restarts); the answer is the same "check your inbox" page
    whether a mail went out or not."""
    db = get_db()
    subscriber = owner.subscriber
    with write_transaction(db):  # the link and its mail are written together, or neither
        recent = issued_since(
            db, "preferences", subscriber["id"], scope, LINK_MAIL_INTERVAL_SECONDS
        )
        if not recent:
            new_token = issue_token(
                db, "preferences", subscriber["id"], scope=scope, ttl_seconds=LINK_TTL_SECONDS
            )
            message = link_message(
                current_app.config["SETTINGS"], subscriber, scope, link(endpoint, token=new_token)
            )
            kind = "export_link" if scope == EXPORT_SCOPE else "erasure_link"
            queue_mail(
                db,
                kind,
                subscriber["email"],
                message,
                subscriber_id=subscriber["id"],
                expires_in=LINK_TTL_SECONDS,
            )
    if not recent:
        current_app.extensions["outbox"].wake()  # the confirmation mail's path: DKIM, SMTP
    set_language(subscriber["language"])
    return render_page(
        "link_sent.html",
        token=token,
        body=f"{scope}_sent_body",
        masked_email=mask_email(subscriber["email"]),
        minutes=LINK_TTL_SECONDS // 60,
        wait=LINK_MAIL_INTERVAL_SECONDS // 60,
    )


def link_message(settings: Settings, subscriber: dict, scope: str, url: str) -> EmailMessage:
    """The plain-text mail with a `scope` link (strings `<scope>_mail_subject` and
    `<scope>_mail_body`), in the subscriber's language; the same headers as the confirmation
    mail (`optin.confirmation_message`). No marketing."""
    language = clean_language(subscriber["language"])
    body = translate(
        language,
        f"{scope}_mail_body",
        sender=site_name(),  # newsletter.yml's organisation, as on the page
        email=subscriber["email"],
        url=url,
        minutes=LINK_TTL_SECONDS // 60,
    )
    to = mail_address(subscriber["name"], subscriber["email"])
    subject = translate(language, f"{scope}_mail_subject")
    return service_message(settings, to, language, subject, body)
