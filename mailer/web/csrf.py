"""CSRF protection for forms: a signed double-submit cookie, the only cookie the app sets.

The cookie holds a random value; each form carries HMAC(key, value) in a hidden field. A
cross-site page can make the browser send the cookie but cannot read it, so it cannot forge
the field. The one-click unsubscribe POST (RFC 8058) comes without cookies and is not a form
of ours, so the unsubscribe URL does not use this; its secret token is its protection.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request

COOKIE_NAME = "newsletter_csrf"
FIELD_NAME = "csrf_token"


def _keys() -> tuple[bytes, ...]:
    """The form keys: from the secret key first, then from each NEWSLETTER_SECRET_KEY_PREVIOUS
    (a form opened before a key rotation still posts)."""
    keys = current_app.config.get("CSRF_KEYS")
    if keys is None:
        settings = current_app.config["SETTINGS"]
        secrets_ = settings.verification_keys or (secrets.token_hex(32),)
        keys = tuple(
            hmac.new(s.encode(), b"newsletter-web-csrf", hashlib.sha256).digest() for s in secrets_
        )
        current_app.config["CSRF_KEYS"] = keys
    return keys


def _sign(value: str, key: bytes | None = None) -> str:
    return hmac.new(key or _keys()[0], value.encode(), hashlib.sha256).hexdigest()


def _cookie_value() -> str:
    """This browser's CSRF value, minting one (set on the response) if it has none."""
    if "csrf_value" not in g:
        value = request.cookies.get(COOKIE_NAME, "")
        if not (32 <= len(value) <= 64 and value.isalnum()):
            value = secrets.token_hex(24)
            g.csrf_new = True
        g.csrf_value = value
    return g.csrf_value


def csrf_token() -> str:
    """The hidden field value for a form on this page."""
    return _sign(_cookie_value())


def check_csrf() -> None:
    """Abort with 400 unless the POSTed field matches this browser's cookie."""
    cookie = request.cookies.get(COOKIE_NAME, "")
    field = request.form.get(FIELD_NAME, "")
    if not cookie or not field:
        abort(400)
    if not any([hmac.compare_digest(field, _sign(cookie, key)) for key in _keys()]):
        abort(400)


def _set_cookie(response: Response) -> Response:
    if g.get("csrf_new"):
        base = urlsplit(current_app.config["SETTINGS"].base_url)
        response.set_cookie(
            COOKIE_NAME,
            g.csrf_value,
            path=base.path.rstrip("/") + "/" if base.path else "/",
            secure=base.scheme == "https",
            httponly=True,
            samesite="Lax",
        )
    return response


def init_app(app: Flask) -> None:
    app.after_request(_set_cookie)
    app.jinja_env.globals["csrf_token"] = csrf_token
