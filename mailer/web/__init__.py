"""The Flask app: public pages for subscribers, the archive, and the editor's preview."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from flask import Flask
from jinja2 import StrictUndefined

from ..compose.render import template_dirs, template_loader
from ..compose.site_profile import read_profile
from ..config import Settings, load_settings
from ..delivery.dkim import signer_for
from ..delivery.welcome import Welcomer
from ..store.db import check_version, connect
from . import (
    archive,
    confirm,
    csrf,
    database,
    embedded_form,
    errorlog,
    feed,
    keyguard,
    pages,
    preferences,
    redirect,
    security,
    subscribe,
    unsubscribe,
)
from .context import install_context
from .outbox import Outbox

__all__ = ["create_app"]

STATIC_DIR = Path(str(importlib.resources.files(__name__) / "static"))

DEFAULT_CONFIG = {
    # (requests, seconds) allowed per client IP / per e-mail address on the subscribe form
    "RATE_LIMIT_IP": (10, 600),
    "RATE_LIMIT_ADDRESS": (3, 3600),
    # challenges for the embedded form (`newsletter form`), per client IP
    "RATE_LIMIT_CHALLENGE": (30, 600),
    # service mail (confirmations, links, welcomes) sent by the outbox thread; off: by the
    # request that queued it, after its transaction (tests look at the mail at once)
    "MAIL_IN_BACKGROUND": True,
    # back-off after a 4xx or a dropped connection (seconds, then the last one repeated)
    "SERVICE_MAIL_RETRY": None,
}


def create_app(
    settings: Settings | None = None,
    *,
    test_config: dict | None = None,
    newsletters_dir: Path | None = None,
    preview_issue: Path | None = None,
) -> Flask:
    """Build the app; with `preview_issue` it also serves the editor's live preview.

    The public endpoint needs `NEWSLETTER_SECRET_KEY` (tokens and CSRF are keyed with it);
    preview mode works without one, because it runs on 127.0.0.1 for one editor.
    """
    settings = settings or load_settings()
    if preview_issue is None:
        settings.require_secret_key()
    refuse_newer_database(settings, create=preview_issue is None)
    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    # the site's templates/ over the bundled ones, file by file (as for the build)
    app.config["TEMPLATE_DIRS"] = template_dirs(settings)
    app.jinja_loader = template_loader(app.config["TEMPLATE_DIRS"])
    app.config.update(DEFAULT_CONFIG)
    app.config.update(test_config or {})
    app.config["SETTINGS"] = settings
    app.config["NEWSLETTERS_DIR"] = Path(newsletters_dir or settings.project_root / "newsletters")
    # who the pages speak for, and the lists' names: newsletter.yml, as the emails use it
    # (read here so that a mistake in it stops the start; web.context reads it again on change)
    app.config["SITE_PROFILE"] = read_profile(app.config["NEWSLETTERS_DIR"])
    app.config["PREVIEW_ISSUE"] = Path(preview_issue).resolve() if preview_issue else None
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.url_map.strict_slashes = False  # a slash redirect would build its URL from Host
    app.url_map.merge_slashes = False
    app.jinja_env.undefined = StrictUndefined
    database.init_app(app)
    retry = app.config["SERVICE_MAIL_RETRY"]
    app.extensions["outbox"] = Outbox(
        settings,
        write_lock=app.extensions["db_state"]["write_lock"],
        background=app.config["MAIL_IN_BACKGROUND"],
        # a DKIM key that cannot sign stops the app here, not at the first sign-up
        signer=signer_for(settings) if preview_issue is None else None,
        **({"retry_delays": tuple(retry)} if retry else {}),
    )
    app.extensions["welcomer"] = Welcomer(settings)
    errorlog.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    keyguard.init_app(app)
    install_context(app)
    for module in (
        pages,
        archive,
        feed,
        unsubscribe,
        confirm,
        subscribe,
        preferences,
        embedded_form,
        redirect,
    ):
        app.register_blueprint(module.bp)
    if preview_issue is not None:
        from . import preview, report_page

        preview.init_app(app)
        app.register_blueprint(report_page.bp)  # the funder's figures, for the editor
    else:  # the JSON API (docs/api.md) only in public mode
        from . import api
        from .sender import SendThread

        api.init_app(app)
        # sends queued through the API run in a thread of `serve` (web.sender)
        app.extensions["sender"] = SendThread(
            settings, app.config["NEWSLETTERS_DIR"], background=app.config["MAIL_IN_BACKGROUND"]
        )
    return app


def refuse_newer_database(settings: Settings, *, create: bool = True) -> None:
    """Stop at start, with the library's `DatabaseError`, on a database that a newer version
    of newsletter has migrated (it would otherwise fail every request with a 500).

    Only the version is checked here; the migrations are still applied by the first request
    that needs the database (`database.get_db`). Preview mode (`create=False`) never creates
    a database just to look.
    """
    path = Path(settings.db_path)
    if not create and not path.exists():
        return
    db = connect(path)
    try:
        check_version(db, path)
    finally:
        db.close()
