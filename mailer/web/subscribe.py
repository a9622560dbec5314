"""The sign-up form: same answer whatever the address's state, rate-limited, with a honeypot."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, request

from ..audience.subscribers import clean_name, normalise_email
from ..delivery.service_mail import queue_signup
from ..errors import SubscriberError
from ..locale import LANGUAGES, join_names, translate
from .context import render_page, site_name, site_profile
from .csrf import check_csrf
from .database import get_db, write_transaction
from .keyguard import require_keys
from .lookup import ListInfo, list_by_name, public_lists
from .ratelimit import RateLimiter

bp = Blueprint("subscribe", __name__)

HONEYPOT_FIELD = "website"
PAGE_LANG_FIELD = "page_lang"  # the language the form was shown in, sent back with it


def _limiter(name: str) -> RateLimiter:
    limiters = current_app.extensions.setdefault("rate_limiters", {})
    if name not in limiters:
        limit, window = current_app.config[name]
        limiters[name] = RateLimiter(limit, window)
    return limiters[name]


def _offered(list_name: str | None) -> list[ListInfo]:
    db = get_db()
    if list_name is None:  # the lists for readers of this page's language
        return [info for info in public_lists(db) if info.offered_in(g.lang)]
    info = list_by_name(db, list_name)
    if info is None or info not in public_lists(db):
        abort(404)  # a private list is as unknown to strangers as a list that does not exist
    return [info]


def consent_text(language: str, lists: list[ListInfo]) -> str:
    """The consent wording shown above the button; stored with the sign-up as shown."""
    return translate(
        language,
        "sub_consent",
        site=site_name(),
        lists=join_names(language, [info.title for info in lists]),
    )


def _shown_consent(offered: list[ListInfo]) -> str:
    """The consent text this page shows (and, on POST, what the form that was sent showed):
    every offered list, in the page's language. The sign-up covers only the ticked lists."""
    return consent_text(g.lang, offered)


def _use_form_language() -> None:
    """Answer a POST in the language its form was shown in (the hidden `page_lang` field),
    not the browser's Accept-Language: the form may have been opened with `?lang=`."""
    shown = request.form.get(PAGE_LANG_FIELD, "")
    if shown in LANGUAGES:
        g.lang = shown


def _form(offered: list[ListInfo], list_name: str | None, status: int = 200, **values):
    chosen = values.pop("chosen", [info.name for info in offered] if len(offered) == 1 else [])
    return render_page(
        "subscribe.html",
        status,
        offered=offered,
        fixed_list=list_name,
        chosen=chosen,
        email=values.get("email", ""),
        name=values.get("name", ""),
        language=values.get("language", g.lang),
        errors=values.get("errors", {}),
        consent=_shown_consent(offered),
    )


@bp.get("/subscribe", endpoint="form")
@bp.get("/subscribe/<list_name>", endpoint="form_for_list")
def form(list_name: str | None = None):
    return _form(_offered(list_name), list_name)


@bp.post("/subscribe", endpoint="submit")
@bp.post("/subscribe/<list_name>", endpoint="submit_for_list")
def submit(list_name: str | None = None):
    """Validate, rate-limit, then queue the sign-up in the durable outbox and answer.

    The answer is the same page, in the same time, for a new, pending, active, unsubscribed or
    erased address: the request writes one `signup` row whatever the address (committed before
    the page is sent, so a stop of the server loses nothing) and never looks the address up;
    the outbox worker makes the sign-up (`optin.start_subscription`) and its confirmation
    mail. Only input errors (which depend on what was typed, not on the database) differ.

    The consent text stored is the one the form showed: its language (`page_lang`) and every
    list it offered, whichever of them were ticked (GDPR Art. 7(1): what the person read).
    """
    _use_form_language()
    check_csrf()
    offered = _offered(list_name)
    if not _limiter("RATE_LIMIT_IP").hit(request.remote_addr or "-"):
        abort(429)
    email = request.form.get("email", "").strip()[:320]
    name = request.form.get("name", "").strip()
    language = request.form.get("language", g.lang)
    language = language if language in LANGUAGES else g.lang
    names = {info.name for info in offered}
    chosen = [n for n in request.form.getlist("lists") if n in names]
    if list_name is not None:
        chosen = [list_name]
    errors = {}
    try:
        email = normalise_email(email)
    except SubscriberError:
        errors["email"] = "err_email"
    if not chosen:
        errors["lists"] = "err_lists"
    try:
        name = clean_name(name)
    except SubscriberError:  # a name the library refuses; says nothing about the address
        errors["name"] = "err_summary"
        name = ""
    if errors:
        return _form(
            offered,
            list_name,
            400,
            email=email,
            name=name,
            language=language,
            chosen=chosen,
            errors=errors,
        )
    if request.form.get(HONEYPOT_FIELD):
        return render_page("subscribe_done.html", email=email, hours=_hours())
    if not _limiter("RATE_LIMIT_ADDRESS").hit(email):
        abort(429)
    queue_web_signup(
        email,
        name=name,
        language=language,
        chosen=[info for info in offered if info.name in chosen],
        consent=_shown_consent(offered),
        channel="web",
    )
    return render_page("subscribe_done.html", email=email, hours=_hours())


def queue_web_signup(
    email: str,
    *,
    name: str,
    language: str,
    chosen: list[ListInfo],
    consent: str,
    channel: str,
    source: str | None = None,
) -> None:
    """The sign-up of a web form (ours or the one on the organisation's site): one insert in
    the durable outbox, whatever the address's state, then wake the worker. The consent text is
    the one the form showed; the confirmation mail names the organisation and the lists."""
    db = get_db()
    with write_transaction(db):  # one insert, whatever the address's state
        require_keys(db, current_app.config["SETTINGS"])  # else 503: the list must be checkable
        queue_signup(
            db,
            email,
            {
                "name": name,
                "language": language,
                "lists": [info.name for info in chosen],
                "consent_text": consent,
                "sender": site_name(),
                "list_names": [
                    site_profile().list_name(info.name, language, info.stored_title)
                    for info in chosen
                ],
                "channel": channel,
                "source": source,
                "ip": request.remote_addr,
                "user_agent": request.user_agent.string or None,
            },
        )
    current_app.extensions["outbox"].wake()


def _hours() -> int:
    return current_app.config["SETTINGS"].confirm_ttl_hours
