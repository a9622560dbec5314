"""Unsubscribe: GET shows a button and changes nothing; POST (the button, or the RFC 8058
one-click POST a mail provider sends without cookies) unsubscribes at once, idempotently."""

from __future__ import annotations

from flask import Blueprint, request

from ..audience import consent
from ..audience.subscribers import activate, unsubscribe
from ..locale import join_names, translate
from .context import render_page, set_language
from .database import get_db, write_transaction
from .lookup import TokenOwner, all_lists, mask_email, statuses, token_owner_or_404

bp = Blueprint("unsubscribe", __name__)

ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"
RECEIVING = ("active", "pending")


def is_one_click() -> bool:
    """The RFC 8058 body, urlencoded or multipart (or sent with an unusual content type)."""
    if request.form.get("List-Unsubscribe") == "One-Click":
        return True
    return ONE_CLICK_BODY in request.get_data(cache=True)[:4096]


def _client() -> dict:
    return {"ip": request.remote_addr, "user_agent": request.user_agent.string or None}


def _render(owner: TokenOwner, state: str, token: str, status: int = 200):
    db = get_db()
    current = statuses(db, owner.subscriber["id"])
    lang = set_language(owner.subscriber["language"])  # before the names: they are in it
    titles = {info.name: info.title for info in all_lists(db)}
    still = [titles[name] for name, status in current.items() if status in RECEIVING]
    if owner.list is not None:
        list_title = owner.list.title
        receiving_this = current.get(owner.list.name) in RECEIVING
        can_resubscribe = current.get(owner.list.name) == "unsubscribed"
        still = [t for t in still if t != owner.list.title]
    else:  # a token for all lists
        list_title = join_names(lang, list(titles[name] for name in current))
        receiving_this = bool(still)
        can_resubscribe = False
        still = []
    return render_page(
        "unsubscribe.html",
        status,
        state=state,
        token=token,
        masked_email=mask_email(owner.subscriber["email"]),
        list_title=list_title,
        receiving_this=receiving_this,
        can_resubscribe=can_resubscribe,
        still=join_names(lang, still),
    )


@bp.get("/unsubscribe/<token>")
def ask(token: str):
    """Only shows the page: link scanners and prefetchers follow GET links."""
    owner = token_owner_or_404(get_db(), "unsubscribe", token)
    return _render(owner, "ask", token)


@bp.post("/unsubscribe/<token>")
def act(token: str):
    """Unsubscribe (default and one-click), unsubscribe from all lists, or resubscribe."""
    db = get_db()
    owner = token_owner_or_404(db, "unsubscribe", token)
    action = request.form.get("action", "")
    list_name = owner.list.name if owner.list else None
    sid = owner.subscriber["id"]
    if action == "resubscribe" and owner.list is not None:
        if owner.statuses.get(list_name) == "unsubscribed":
            text = translate(
                owner.subscriber["language"], "resubscribe_button", list=owner.list.title
            )
            with write_transaction(db):
                activate(
                    db,
                    sid,
                    owner.list.id,
                    action="subscribe",
                    channel="web",
                    consent_text_id=consent.consent_text_id(db, text),
                    detail="resubscribe",
                    **_client(),
                )
        return _render(owner, "resubscribed", token)
    if action == "all":
        with write_transaction(db):
            unsubscribe(db, sid, None, channel="web", **_client())
        return _render(owner, "all_done", token)
    channel = "one-click" if not action and is_one_click() else "web"
    with write_transaction(db):
        unsubscribe(db, sid, list_name, channel=channel, **_client())
    return _render(owner, "done" if list_name else "all_done", token)
