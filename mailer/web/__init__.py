"""The Flask app: public pages for subscribers, the archive, and the editor's preview."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import StrictUndefined

from ..config import Settings, load_settings
from ..store.db import check_version, connect
from . import (
    archive,
    confirm,
    csrf,
    database,
    errorlog,
    feed,
    pages,
    preferences,
    security,
    subscribe,
    unsubscribe,
)
from .context import install_context
from .outbox import Outbox, smtp_sender

__all__ = ["create_app"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

DEFAULT_CONFIG = {
    # (requests, seconds) allowed per client IP / per e-mail address on the subscribe form
    "RATE_LIMIT_IP": (10, 600),
    "RATE_LIMIT_ADDRESS": (3, 3600),
    # callable(EmailMessage) used to mail confirmation links; None = SMTP from settings
    "SEND_MAIL": None,
    "MAIL_IN_BACKGROUND": True,
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
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
    )
    app.config.update(DEFAULT_CONFIG)
    app.config.update(test_config or {})
    app.config["SETTINGS"] = settings
    app.config["NEWSLETTERS_DIR"] = Path(newsletters_dir or Path.cwd() / "newsletters")
    app.config["PREVIEW_ISSUE"] = Path(preview_issue).resolve() if preview_issue else None
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.url_map.strict_slashes = False  # a slash redirect would build its URL from Host
    app.url_map.merge_slashes = False
    app.jinja_env.undefined = StrictUndefined
    send_mail = app.config["SEND_MAIL"]
    if send_mail is None and preview_issue is None:
        send_mail = smtp_sender(settings)  # a DKIM key that cannot sign stops the app here
    app.extensions["outbox"] = Outbox(
        settings, send_mail, background=app.config["MAIL_IN_BACKGROUND"]
    )

    database.init_app(app)
    errorlog.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    install_context(app)
    for module in (pages, archive, feed, unsubscribe, confirm, subscribe, preferences):
        app.register_blueprint(module.bp)
    if preview_issue is not None:
        from . import preview

        preview.init_app(app)
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
