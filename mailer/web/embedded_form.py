"""The sign-up form for the organisation's own web site (`newsletter form` prints it).

The form on our own page relies on a CSRF cookie; a form pasted into another site cannot.
So this one is accepted only from the origins in NEWSLETTER_FORM_ORIGINS (the browser's
`Origin` header; CORS for the JSON variant), and bots are kept out without cookies or a
third-party captcha: a honeypot field, the same rate limits as our form, and a proof-of-work
challenge the browser solves (`challenge.py`, fetched by our small `form.js`). Everything
after that is our own form's path: one durable `signup` row whatever the address, the same
answer for known and unknown addresses, double opt-in, and a consent record naming the page
and the text the form showed.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request

from ..audience.subscribers import clean_name, normalise_email
from ..errors import SubscriberError
from ..locale import LANGUAGES, translate
from .challenge import SolutionChecker, create_challenge
from .context import render_page
from .database import get_db
from .lookup import ListInfo, list_by_name, public_lists
from .subscribe import HONEYPOT_FIELD, _hours, _limiter, consent_text, queue_web_signup

bp = Blueprint("embedded_form", __name__, url_prefix="/form")

FORM_JS = "form.js"


def allowed_origins() -> tuple[str, ...]:
    return current_app.config["SETTINGS"].form_origins_list


def _origin_allowed(origin: str | None) -> bool:
    return bool(origin) and origin.rstrip("/").lower() in allowed_origins()


def _url_on_allowed_origin(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme and parts.netloc) and _origin_allowed(
        f"{parts.scheme}://{parts.netloc}"
    )


def _cors(response, origin: str):
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def consent_version(text: str) -> str:
    """A short fingerprint of the consent text a form shows: a form made before the text
    changed (a list renamed) is refused rather than recorded with words it never showed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _checker() -> SolutionChecker:
    state = current_app.extensions
    if "form_challenge" not in state:
        state["form_challenge"] = SolutionChecker(current_app.config["SETTINGS"].secret_key)
    return state["form_challenge"]


def _list(name: str) -> ListInfo | None:
    info = list_by_name(get_db(), name)
    return info if info is not None and info in public_lists(get_db()) else None


def snippet(list_name: str, language: str, thanks_url: str = "") -> str:
    """The HTML to paste into the organisation's page (needs a request context: links and
    the consent text are made exactly as the server will check them)."""
    info = _list(list_name)
    if info is None:
        raise SubscriberError(
            f"list {list_name!r} does not exist or is private; "
            "see `newsletter subscribers lists` for the public ones"
        )
    if thanks_url and not _url_on_allowed_origin(thanks_url):
        raise SubscriberError(
            f"--thanks {thanks_url}: the thank-you page must be on one of the origins in "
            "NEWSLETTER_FORM_ORIGINS"
        )
    text = consent_text(language, [info])
    base = current_app.config["SETTINGS"].base_url.rstrip("/")
    return render_template(
        "web/form_snippet.html",
        base=base,
        list_name=info.name,
        form_language=language,
        consent=text,
        consent_id=consent_version(text),
        thanks=thanks_url,
        t=lambda key, **kw: translate(language, key, **kw),
    )


@bp.get("/challenge")
def challenge():
    origin = request.headers.get("Origin", "")
    if not _origin_allowed(origin):
        abort(403)
    if not _limiter("RATE_LIMIT_CHALLENGE").hit(request.remote_addr or "-"):
        abort(429)
    settings = current_app.config["SETTINGS"]
    return _cors(jsonify(create_challenge(settings.secret_key)), origin)


@bp.route("/subscribe", methods=["OPTIONS"])
def preflight():
    origin = request.headers.get("Origin", "")
    if not _origin_allowed(origin):
        abort(403)
    return _cors(current_app.response_class(status=204), origin)


@bp.get(f"/{FORM_JS}")
def script():
    """Our form script, loadable from the organisation's pages (a cross-origin <script>)."""
    response = current_app.send_static_file(FORM_JS)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.cache_control.max_age = 3600
    response.cache_control.public = True
    return response


def _answer(as_json: bool, status: int, key: str, origin: str, **values):
    """The reply: JSON for a site's own code, else our thank-you page or the site's."""
    if as_json:
        message = translate(g.lang, key, **{k: v for k, v in values.items() if k != "thanks"})
        return _cors(jsonify({"ok": status == 200, "message": message}), origin), status
    if status == 200:
        thanks = values.get("thanks", "")
        if thanks:
            return redirect(thanks, 303)
        return render_page("subscribe_done.html", email=values.get("email", ""), hours=_hours())
    return render_page(
        "error.html", status, title_key="form_refused_title", body_key=key, code=status
    )


@bp.post("/subscribe")
def submit():
    """A sign-up from the organisation's page: origin, challenge, honeypot, limits, then
    exactly what our own form does (`subscribe.submit`)."""
    origin = request.headers.get("Origin", "")
    if not _origin_allowed(origin):
        abort(403)  # not from an allowed site (or not from a browser that says where)
    as_json = request.is_json
    data = request.get_json(silent=True) if as_json else request.form
    if not isinstance(data, dict) and not hasattr(data, "get"):
        abort(400)
    language = str(data.get("language") or "")
    g.lang = language if language in LANGUAGES else g.lang
    if not _limiter("RATE_LIMIT_IP").hit(request.remote_addr or "-"):
        abort(429)
    info = _list(str(data.get("list") or ""))
    if info is None:
        return _answer(as_json, 400, "form_out_of_date", origin)
    shown = consent_text(g.lang, [info])
    if data.get("consent_id") and data.get("consent_id") != consent_version(shown):
        return _answer(as_json, 400, "form_out_of_date", origin)
    if not _checker().verify(str(data.get("altcha") or "")):
        return _answer(as_json, 400, "form_challenge_failed", origin)
    thanks = str(data.get("thanks") or "")
    thanks = thanks if thanks and _url_on_allowed_origin(thanks) else ""
    page = str(data.get("page") or "")[:500]
    page = page if _url_on_allowed_origin(page) else origin
    try:
        email = normalise_email(str(data.get("email") or "").strip()[:320])
        name = clean_name(str(data.get("name") or "").strip())
    except SubscriberError:
        return _answer(as_json, 400, "err_email", origin)
    if data.get(HONEYPOT_FIELD):
        return _answer(as_json, 200, "form_done", origin, email=email, thanks=thanks)
    if not _limiter("RATE_LIMIT_ADDRESS").hit(email):
        abort(429)
    queue_web_signup(
        email,
        name=name,
        language=g.lang,
        chosen=[info],
        consent=shown,
        channel="web-form",
        source=page,
    )
    return _answer(as_json, 200, "form_done", origin, email=email, thanks=thanks)


def make_snippet(settings, list_name: str, language: str, thanks_url: str = "") -> str:
    """`newsletter form`: the snippet, made by the app itself so that its links, list and
    consent text are exactly what the server checks when the form comes back."""
    from . import create_app

    if not settings.form_origins_list:
        raise SubscriberError(
            "NEWSLETTER_FORM_ORIGINS is empty: set it on the server to the web sites that may "
            "show the form, e.g. NEWSLETTER_FORM_ORIGINS=https://www.example.se"
        )
    if language not in LANGUAGES:
        raise SubscriberError(f"--language {language}: use one of {', '.join(LANGUAGES)}")
    app = create_app(settings, test_config={"MAIL_IN_BACKGROUND": False})
    with app.test_request_context("/form/snippet", base_url=settings.base_url):
        g.lang = language
        return snippet(list_name, language, thanks_url)
