"""No sign-up while the suppression list cannot be checked: 503, never an erased person back.

When the suppression list holds rows made with a secret key that is no longer configured
(NEWSLETTER_SECRET_KEY changed without moving the old one to NEWSLETTER_SECRET_KEY_PREVIOUS),
the sign-up and confirm pages answer 503 with Retry-After and the log says, in one line, what
the operator must do; unsubscribe and preferences pages keep working.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from ..audience.keys import (
    SecretKeyMissing,
    missing_fingerprints,
    missing_key_message,
    require_cover,
)
from ..store.db import connect
from .context import render_page

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 3600


def require_keys(db, settings) -> None:
    """SecretKeyMissing (answered with 503) unless every suppression key is configured."""
    require_cover(db, settings)


def _unavailable(error: SecretKeyMissing):
    log.warning("sign-up refused with 503: %s", error)
    html, status = render_page(
        "error.html", 503, title_key="error_title", body_key="error_body", code=503
    )
    return html, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def warn_at_start(settings) -> None:
    """Say at start, not only at the first sign-up, that a needed key is missing."""
    path = Path(settings.db_path)
    if not path.exists():
        return
    db = connect(path)
    try:
        if db["suppression_keys"].exists():
            missing = missing_fingerprints(db, settings)
            if missing:
                log.warning("sign-up will answer 503: %s", missing_key_message(missing))
    finally:
        db.close()


def init_app(app: Flask) -> None:
    app.register_error_handler(SecretKeyMissing, _unavailable)
    if not app.config.get("PREVIEW_ISSUE"):
        warn_at_start(app.config["SETTINGS"])
