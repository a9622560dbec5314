"""The click counter's redirect: `/r/<slug>/<n>` adds one to link n of a sent issue and sends
the reader on to the address that issue's meta.json lists for n (NEWSLETTER_CLICK_COUNTING).

Nothing about the reader is looked at or kept: the address is the same in every copy of the
issue, the counter has no subscriber, IP or time column, and the app's log line for it is the
request path only. Only addresses listed in a published issue are redirect targets, so this is
no open redirect: any other number, slug or an issue not yet sent is a 404.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, request

from ..delivery.clicks import add_click
from .archive import build_dir, is_published, read_meta
from .database import get_db, write_transaction

bp = Blueprint("redirect", __name__)


def link_target(slug: str, number: int) -> str | None:
    """The address link `number` of issue `slug` stands for, when the issue is published and
    was built with click counting; None otherwise."""
    build = build_dir(slug)
    if build is None:
        return None
    meta = read_meta(build) or {}
    if not meta.get("click_counting") or meta.get("slug", slug) != slug:
        return None
    target = (meta.get("links") or {}).get(str(number))
    if not isinstance(target, str) or urlsplit(target).scheme not in ("http", "https"):
        return None
    if not is_published(slug):
        return None
    return target


@bp.get("/r/<slug>/<int:number>")
def follow(slug: str, number: int):
    target = link_target(slug, number)
    if target is None:
        abort(404)
    # the editor's own preview counts nothing (and never creates a database); a HEAD request
    # (link checkers, some scanners) is answered but not counted: nobody followed the link
    if current_app.config["PREVIEW_ISSUE"] is None and request.method == "GET":
        db = get_db()
        with write_transaction(db):
            add_click(db, slug, number)
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response
