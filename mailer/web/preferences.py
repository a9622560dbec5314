""" "My subscription": change name, language and lists; download my data; erase me."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, g, request

from ..consent import erase_subscriber, export_subject
from ..errors import DatabaseError, SubscriberError
from ..subscribers import update_profile
from .context import render_page, set_language
from .csrf import check_csrf
from .database import get_db, write_transaction, writing
from .lookup import TokenOwner, lists_for, statuses, subscriber_by_id, token_owner_or_404
from .strings import LANGUAGES

bp = Blueprint("preferences", __name__, url_prefix="/preferences")

RECEIVING = ("active", "pending")
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
    owner = token_owner_or_404(get_db(), "preferences", token)
    set_language(owner.subscriber["language"])
    return _page(owner, token)


@bp.post("/<token>")
def save(token: str):
    db = get_db()
    owner = token_owner_or_404(db, "preferences", token)
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
    owner = token_owner_or_404(db, "preferences", token)
    set_language(owner.subscriber["language"])
    return _page(owner, token, saved=True)


@bp.post("/<token>/export")
def export(token: str):
    """The access document (the same as `subscribers show --json`), as a download."""
    db = get_db()
    owner = token_owner_or_404(db, "preferences", token)
    check_csrf()
    document = export_subject(db, owner.subscriber["id"])
    response = current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@bp.get("/<token>/erase")
def erase_ask(token: str):
    """The confirmation step before erasure (a GET never erases)."""
    owner = token_owner_or_404(get_db(), "preferences", token)
    set_language(owner.subscriber["language"])
    return render_page("erase.html", token=token, subscriber=owner.subscriber)


@bp.post("/<token>/erase")
def erase(token: str):
    db = get_db()
    owner = token_owner_or_404(db, "preferences", token)
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
