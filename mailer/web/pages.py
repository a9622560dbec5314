"""The front page and the error pages (one generic 404 that reveals nothing)."""

from __future__ import annotations

from flask import Blueprint

from .context import render_page

bp = Blueprint("pages", __name__)

ERRORS = {
    400: ("bad_request_title", "bad_request_body"),
    404: ("not_found_title", "not_found_body"),
    405: ("not_found_title", "not_found_body"),
    413: ("bad_request_title", "bad_request_body"),
    429: ("too_many_title", "too_many_body"),
    500: ("error_title", "error_body"),
}


@bp.get("/")
def index():
    return render_page("index.html")


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
