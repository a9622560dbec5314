"""The JSON API's foundation: bearer-token auth, JSON errors, the audit helper, /api/version.

Only in public mode (`serve`), never in the editor's preview. A request proves itself with
`Authorization: Bearer TOKEN` and nothing else (no cookie, no query parameter), so the pages'
CSRF protection does not apply: a browser cannot be tricked into sending that header.
Failed authentications are counted per client address and, over the limit, answered 429 with
Retry-After *before* the token is looked at, so guessing is slow. The token is never logged:
waitress logs no requests, and the error log (`errorlog`) names the route, not the headers.

Endpoint modules (`API_MODULES`) each have a `bp` made with `api_blueprint` and views wrapped
in `require_token`; `g.api_token` holds the token's name, `audit(...)` records a change.
"""

from __future__ import annotations

import contextlib
import functools
import math

from flask import Blueprint, Flask, current_app, g, jsonify, request

from ..errors import DatabaseError, MailerError
from ..remote.audit import record_audit
from ..remote.protocol import API_PREFIX, API_VERSION, VERSION_PATH, tool_version
from ..remote.tokens import find_token, touch_token
from ..store.db import BUSY_TIMEOUT_SECONDS, transaction, utc_now
from .database import get_db, write_transaction, writing
from .ratelimit import RateLimiter

# failed authentications allowed per client address within the window (seconds)
DEFAULT_AUTH_FAILURES = (10, 600)
# request bodies after authentication (imports, bundles); the pages' forms stay at 64 KB
API_MAX_BODY = 64 * 1024 * 1024
TOUCH_SECONDS = 60  # a token's last use is noted at most this often


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint for endpoints under /api/v1 (register its module in `API_MODULES`)."""
    blueprint = Blueprint(name, import_name, url_prefix=API_PREFIX)
    blueprint.register_error_handler(MailerError, _library_error)
    return blueprint


def json_error(status: int, message: str, headers: dict | None = None):
    """`{"error": message, "status": status}` with that status: every API failure looks so."""
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _limiter() -> RateLimiter:
    limiter = current_app.extensions.get("api_auth_limiter")
    if limiter is None:
        limit, window = current_app.config.get("RATE_LIMIT_API_AUTH", DEFAULT_AUTH_FAILURES)
        limiter = current_app.extensions["api_auth_limiter"] = RateLimiter(limit, window)
    return limiter


def _authenticate():
    """None when the request carries a live token (its name in `g.api_token`), else the
    401/429 answer."""
    client = request.remote_addr or "-"
    wait = _limiter().blocked(client)
    if wait:
        seconds = str(max(1, math.ceil(wait)))
        return json_error(
            429,
            f"too many failed authentications; try again in {seconds} s",
            {"Retry-After": seconds},
        )
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    db = get_db()
    token = find_token(db, secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        _limiter().hit(client)
        return json_error(
            401,
            "token refused: wrong or revoked (send it as 'Authorization: Bearer TOKEN')",
            {"WWW-Authenticate": 'Bearer realm="newsletter"'},
        )
    _touch(db, token)
    g.api_token = token["name"]
    request.max_content_length = API_MAX_BODY
    return None


def _touch(db, token: dict) -> None:
    """Note the token's use (for `tokens list`) at most once a minute, and never wait for it:
    while an import holds the database, the request goes on without the note."""
    if token["last_used"] and token["last_used"] > utc_now(-TOUCH_SECONDS):
        return
    lock = writing()
    if not lock.acquire(blocking=False):
        return
    try:
        db.execute("PRAGMA busy_timeout = 0")
        with contextlib.suppress(DatabaseError), transaction(db):
            touch_token(db, token["id"])
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        lock.release()


def require_token(view):
    """Run `view` only for a request with a live token; `g.api_token` is its name."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        refused = _authenticate()
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    return wrapped


def audit(action: str, counts: dict | None = None, db=None) -> None:
    """Record a change made through this request's token (inside the caller's transaction
    when `db` is in one)."""
    database = db or get_db()
    if database.conn.in_transaction:
        record_audit(database, g.api_token, action, counts)
        return
    with write_transaction(database):
        record_audit(database, g.api_token, action, counts)


def _library_error(error: MailerError):
    """A refusal of the library (bad input, unknown address): its own message, 400."""
    return json_error(400, str(error))


bp = Blueprint("api", __name__)
bp.register_error_handler(MailerError, _library_error)


@bp.get(VERSION_PATH)
def version():
    """Which API and which newsletter this server runs (no token needed: clients ask first)."""
    return jsonify({"api": API_VERSION, "newsletter": tool_version()})


@bp.get(API_PREFIX + "/whoami")
@require_token
def whoami():
    """The token's name (for `newsletter config` on the laptop; never the secret)."""
    return jsonify({"token": g.api_token, "api": API_VERSION, "newsletter": tool_version()})


def _handle_error(error: Exception):
    """JSON for every error under /api/, the pages' own error page elsewhere."""
    from .pages import error_page

    status = getattr(error, "code", None) or 500  # an HTTPException's status
    if not request.path.startswith("/api/"):
        return error_page(status)
    messages = {
        404: "no such API endpoint",
        405: "method not allowed here",
        413: f"request body over {API_MAX_BODY // (1024 * 1024)} MB",
    }
    if status == 500:  # Flask has logged it (errorlog: the route, never the message)
        return json_error(500, "internal error; the server's log names it")
    return json_error(status, messages.get(status, getattr(error, "description", "error")))


# endpoint modules, each with a `bp`
API_MODULES = ("mailer.web.api", "mailer.web.api_list", "mailer.web.api_send")


def init_app(app: Flask) -> None:
    """Register the API's blueprints and its JSON error answers (public mode only)."""
    import importlib

    for name in API_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
    from .pages import ERRORS

    for status in ERRORS:  # replaces the pages' handlers, which it calls for non-API paths
        app.register_error_handler(status, _handle_error)
