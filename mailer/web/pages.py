"""The front page, the error pages (one generic 404 that reveals nothing), and the site's
identity as files: its logo and its accent colour (newsletter.yml's logo and brand_color)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_file

from .context import render_page, site_profile

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
