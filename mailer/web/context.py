"""What every page template can use: `_` (translate), `link` (absolute URL), `lang`, site name.

Links are built from `NEWSLETTER_BASE_URL`, never from the request's Host header, so a
forged Host cannot put someone else's address into a page.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlencode, urlsplit

from flask import Flask, current_app, g, render_template, request

from ..locale import LANGUAGES, translate

# Accept-Language codes that read one of ours well enough.
LANGUAGE_FALLBACKS = {"nb": "da", "nn": "da", "no": "da", "fo": "da", "fi": "sv"}


def pick_language(subscriber_language: str | None = None) -> str:
    """`?lang=` if valid, else the subscriber's language, else Accept-Language, else Swedish."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    if subscriber_language in LANGUAGES:
        return subscriber_language
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best
    for code, _quality in request.accept_languages:
        fallback = LANGUAGE_FALLBACKS.get(code.split("-")[0].lower())
        if fallback:
            return fallback
    return LANGUAGES[0]


def set_language(subscriber_language: str | None) -> str:
    """Use the subscriber's language on this page (unless `?lang=` asks for another)."""
    g.lang = pick_language(subscriber_language)
    return g.lang


def link(endpoint: str, _query: dict | None = None, **values) -> str:
    """The absolute URL of a route, under the configured base URL."""
    base = current_app.config["SETTINGS"].base_url.rstrip("/")
    adapter = current_app.url_map.bind("localhost", script_name="/")
    url = base + adapter.build(endpoint, values)
    if _query:
        url += "?" + urlencode(_query)
    return url


def _(key: str, **kw) -> str:
    return translate(g.get("lang") or LANGUAGES[0], key, **kw)


def site_name() -> str:
    """The organisation's name from NEWSLETTER_FROM, else the base URL's host."""
    settings = current_app.config["SETTINGS"]
    return parseaddr(settings.from_address)[0] or urlsplit(settings.base_url).hostname or ""


def render_page(template: str, status: int = 200, **context):
    """Render `templates/web/<template>` with the page globals; returns (html, status)."""
    return render_template(f"web/{template}", **context), status


def _language_before_request() -> None:
    g.lang = pick_language()


def install_context(app: Flask) -> None:
    app.before_request(_language_before_request)
    app.jinja_env.globals.update(
        _=_,
        link=link,
        site_name=site_name,
        languages=LANGUAGES,
        language_name=lambda code: translate(code, "language_name"),
    )
    app.context_processor(lambda: {"lang": g.get("lang") or LANGUAGES[0]})
