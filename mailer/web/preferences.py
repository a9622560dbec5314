""" "My subscription": change name, language and lists; download my data; erase me.

The preferences link in every newsletter never expires, and newsletters get forwarded, so it
must not hand out the access document: its "Download my data" mails a short-lived download
link to the subscriber's own address instead (as listmonk does). That link carries a
`preferences` token with scope `export`, valid for an hour and once; its GET shows a button
(mail scanners follow links), the button's POST downloads. An export token opens nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from email.headerregistry import Address
from email.message import EmailMessage

from flask import Blueprint, abort, current_app, g, request

from ..config import Settings
from ..consent import erase_subscriber, export_subject
from ..errors import DatabaseError, SubscriberError
from ..optin import sender_name, service_message
from ..subscribers import clean_language, update_profile
from ..tokens import consume_token, issue_token
from .context import link, render_page, set_language
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
from .strings import LANGUAGES, translate

bp = Blueprint("preferences", __name__, url_prefix="/preferences")

RECEIVING = ("active", "pending")
EXPORT_SCOPE = "export"  # tokens.scope of the mailed download link
EXPORT_TTL_SECONDS = 3600  # how long the mailed download link works
EXPORT_MAIL_INTERVAL_SECONDS = 600  # at most one download mail per person in this time
log = logging.getLogger(__name__)


def _owner(db, token: str) -> TokenOwner:
    """The owner of a newsletter's preferences token; anything else is a 404 (so the mailed
    download link cannot open the preferences page, change anything or erase anyone)."""
    owner = token_owner_or_404(db, "preferences", token)
    if owner.token["scope"] is not None:
        abort(404)
    return owner


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
                name=request.form.get("name", "").strip()[:200],
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
    owner = _export_owner(db, token)
    check_csrf()
    if owner.token["scope"] is None:
        return _mail_download_link(owner, token)
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
    owner = _export_owner(get_db(), token)
    set_language(owner.subscriber["language"])
    return render_page(
        "export.html",
        token=token,
        mailed=owner.token["scope"] == EXPORT_SCOPE,
        masked_email=mask_email(owner.subscriber["email"]),
    )


def _export_owner(db, token: str) -> TokenOwner:
    """The owner of a newsletter preferences token or of a mailed download link; else 404."""
    owner = token_owner_or_404(db, "preferences", token)
    if owner.token["scope"] not in (None, EXPORT_SCOPE):
        abort(404)
    return owner


def _mail_download_link(owner: TokenOwner, token: str):
    """Issue an export token and mail its link to the subscriber, at most once per interval
    (counted in the tokens table, so it holds across worker processes and restarts); the
    answer is the same page whether a mail went out or not."""
    db = get_db()
    subscriber = owner.subscriber
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=EXPORT_MAIL_INTERVAL_SECONDS)
    with write_transaction(db):
        recent = db.execute(
            "SELECT 1 FROM tokens WHERE subscriber_id = ? AND purpose = 'preferences' "
            "AND scope = ? AND created > ? LIMIT 1",
            [subscriber["id"], EXPORT_SCOPE, cutoff.strftime("%Y-%m-%dT%H:%M:%S.%fZ")],
        ).fetchone()
        new_token = None
        if recent is None:
            new_token = issue_token(
                db,
                "preferences",
                subscriber["id"],
                scope=EXPORT_SCOPE,
                ttl_seconds=EXPORT_TTL_SECONDS,
            )
    if new_token is not None:
        url = link("preferences.export_ask", token=new_token)
        message = export_message(current_app.config["SETTINGS"], subscriber, url)
        current_app.extensions["outbox"](message)  # the confirmation mail's path: DKIM, SMTP
    set_language(subscriber["language"])
    return render_page(
        "export_sent.html",
        token=token,
        masked_email=mask_email(subscriber["email"]),
        minutes=EXPORT_TTL_SECONDS // 60,
        wait=EXPORT_MAIL_INTERVAL_SECONDS // 60,
    )


def export_message(settings: Settings, subscriber: dict, url: str) -> EmailMessage:
    """The plain-text mail with the download link, in the subscriber's language; the same
    headers as the confirmation mail (`optin.confirmation_message`). No marketing."""
    language = clean_language(subscriber["language"])
    body = translate(
        language,
        "export_mail_body",
        sender=sender_name(settings),
        email=subscriber["email"],
        url=url,
        minutes=EXPORT_TTL_SECONDS // 60,
    )
    to = Address(display_name=subscriber["name"] or "", addr_spec=subscriber["email"])
    return service_message(settings, to, language, translate(language, "export_mail_subject"), body)


@bp.get("/<token>/erase")
def erase_ask(token: str):
    """The confirmation step before erasure (a GET never erases)."""
    owner = _owner(get_db(), token)
    set_language(owner.subscriber["language"])
    return render_page("erase.html", token=token, subscriber=owner.subscriber)


@bp.post("/<token>/erase")
def erase(token: str):
    db = get_db()
    owner = _owner(db, token)
    check_csrf()
    set_language(owner.subscriber["language"])
    lang = g.lang
    try:
        with writing():  # erasure rewrites the file afterwards, so it runs outside a transaction
            erase_subscriber(
                db, current_app.config["SETTINGS"], owner.subscriber["id"], channel="web"
            )
    except DatabaseError:
        if subscriber_by_id(db, owner.subscriber["id"]) is not None:
            raise  # not erased: the error page, and the person can try again
        # erased and committed; only the scrub of the WAL had to wait for another reader
        log.warning(
            "a web erasure is done, but a reader kept old pages in the -wal file; run "
            "`newsletter subscribers purge` when the sender is idle"
        )
    g.lang = lang
    return render_page("erased.html")
