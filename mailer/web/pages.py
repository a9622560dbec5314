"""The front page, the error pages (one generic 404 that reveals nothing), and the site's
identity as files: its logo and its accent colour (newsletter.yml's logo and brand_color)."""

from __future__ import annotations

import sqlite3

from flask import Blueprint, Response, abort, current_app, request, send_file

from ..errors import DatabaseUnavailable
from ..store.db import storage_fault
from .context import render_page, site_profile

bp = Blueprint("pages", __name__)

ERRORS = {
    400: ("bad_request_title", "bad_request_body"),
    404: ("not_found_title", "not_found_body"),
    405: ("not_found_title", "not_found_body"),
    413: ("bad_request_title", "bad_request_body"),
    429: ("too_many_title", "too_many_body"),
    503: ("busy_title", "busy_body"),
    500: ("error_title", "error_body"),
}


@bp.get("/")
def index():
    return render_page("index.html")


@bp.get("/site/logo")
def logo():
    """The organisation's logo from newsletter.yml (the only file served from that folder)."""
    image = site_profile().logo
    if image is None:
        abort(404)
    return send_file(image.path, max_age=3600)


@bp.get("/site.css")
def site_css():
    """The accent colours as CSS variables: a file, because the pages' policy allows no inline
    style. The accent is the brand colour, darkened where white text on it would not read."""
    profile = site_profile()
    css = f":root {{ --accent: {profile.accent}; --accent-dark: {profile.accent_dark}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def error_page(status: int):
    """The page for an HTTP error status: the same for every unknown, used or expired link."""
    title, body = ERRORS.get(status, ERRORS[500])
    return render_page("error.html", status, title_key=title, body_key=body, code=status)


def _handler(status: int):
    def handle(_error):
        return error_page(status)

    return handle


for _status in ERRORS:
    bp.app_errorhandler(_status)(_handler(_status))

RETRY_AFTER_SECONDS = 60


@bp.app_errorhandler(DatabaseUnavailable)
@bp.app_errorhandler(sqlite3.OperationalError)
def database_unavailable(error: Exception):
    """A write the database cannot take now (locked beyond the limit, a full disk): 503 with
    Retry-After, a page asking to try again, one log line without a traceback. The request's
    transaction was rolled back, so nothing is half-stored. Other SQLite errors stay 500s."""
    text = str(error)
    known = storage_fault(error) is not None or "locked" in text or "busy" in text
    if not isinstance(error, DatabaseUnavailable) and not known:
        raise error
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    reason = "disk full" if "full" in text or "space" in text else "database locked"
    current_app.logger.warning("503 on %s [%s]: %s", rule, request.method, reason)
    body, status = error_page(503)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
