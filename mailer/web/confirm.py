"""Confirming a sign-up: the mailed link shows a button; the POST activates (IP, agent, time)
and queues the list's welcome issue, if it has one, in the same transaction."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from ..audience.optin import confirm
from ..audience.tokens import lookup_token
from ..locale import join_names
from .context import render_page, set_language
from .database import get_db, write_transaction
from .lookup import list_by_id, subscriber_by_id

bp = Blueprint("confirm", __name__)


def _invalid():
    """Expired, used, unknown or tampered: one friendly page that says which of them none."""
    return render_page("confirm_invalid.html", 404)


@bp.get("/confirm/<token>")
def ask(token: str):
    """Shows the button only: link scanners follow GET links and must not confirm anyone."""
    db = get_db()
    row = lookup_token(db, "confirm", token)
    subscriber = subscriber_by_id(db, row["subscriber_id"]) if row else None
    if row is None or subscriber is None:
        return _invalid()
    lang = set_language(subscriber["language"])
    ids = [int(x) for x in (row["scope"] or str(row["list_id"] or "")).split(",") if x]
    titles = [info.title for info in (list_by_id(db, i) for i in ids) if info is not None]
    return render_page("confirm.html", token=token, lists=join_names(lang, titles))


@bp.post("/confirm/<token>")
def activate(token: str):
    db = get_db()
    row = lookup_token(db, "confirm", token)
    subscriber = subscriber_by_id(db, row["subscriber_id"]) if row else None
    if subscriber is not None:
        set_language(subscriber["language"])
    welcomer = current_app.extensions["welcomer"]
    with write_transaction(db):
        confirmed = confirm(
            db,
            current_app.config["SETTINGS"],
            token,
            ip=request.remote_addr,
            user_agent=request.user_agent.string or None,
            on_activate=lambda subscriber_id, list_id: welcomer.queue(db, subscriber_id, list_id),
        )
    if not confirmed:
        return _invalid()
    current_app.extensions["outbox"].wake()  # the welcome issue, if the list has one
    return render_page("confirmed.html")
