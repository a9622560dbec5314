"""What every page template can use: `_` (translate), `link` (absolute URL), `lang`, and the
site's identity (`site`: name, logo, accent, address from newsletter.yml).

Links are built from `NEWSLETTER_BASE_URL`, never from the request's Host header, so a
forged Host cannot put someone else's address into a page.
"""

from __future__ import annotations

import logging
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask, current_app, g, render_template, request

from ..compose.issue import SITE_FILE
from ..compose.site_profile import SiteProfile, read_profile
from ..errors import MailerError
from ..locale import LANGUAGES, translate

log = logging.getLogger(__name__)

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


def site_profile() -> SiteProfile:
    """newsletter.yml's organisation, logo, accent colour, address and list names; read again
    when the file changes (a new list's name shows without a restart). A file broken while
    the app runs keeps the last good profile and is logged."""
    config = current_app.config
    path = Path(config["NEWSLETTERS_DIR"]) / SITE_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    if config.get("SITE_PROFILE_STAMP", -1) != stamp:
        try:
            config["SITE_PROFILE"] = read_profile(config["NEWSLETTERS_DIR"])
        except MailerError as exc:
            log.error("%s (the pages keep the last good one)", exc)
        config["SITE_PROFILE_STAMP"] = stamp
    return config.get("SITE_PROFILE") or SiteProfile()


def site_name() -> str:
    """The organisation's name from newsletter.yml (as in the emails), else NEWSLETTER_FROM's
    display name, else the base URL's host."""
    settings = current_app.config["SETTINGS"]
    return (
        site_profile().organisation
        or parseaddr(settings.from_address)[0]
        or urlsplit(settings.base_url).hostname
        or ""
    )


def list_title(key: str, stored_title: str = "") -> str:
    """A list's name for the reader of this page: newsletter.yml's name in the page's
    language, else the title stored with the list, else its key."""
    return site_profile().list_name(key, g.get("lang") or LANGUAGES[0], stored_title)


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
        site=site_profile,
        languages=LANGUAGES,
        language_name=lambda code: translate(code, "language_name"),
    )
    app.context_processor(lambda: {"lang": g.get("lang") or LANGUAGES[0]})
