"""The editor's live preview: the email at desktop width, at 375 px and in a 320 px phone frame
(the narrowest phones still in use: a table or word that does not fit shows there first), and
the plain text.

The page polls `/preview/version` once a second (a tiny script, editor mode only). Each poll
compares the modification times of the issue's files and of `templates/`; when one changed
the issue is rebuilt, the version goes up and the page reloads. A build error is shown in the
page (and printed in the terminal) until the next good build.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from html import escape
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify

from ..config import Settings
from ..errors import MailerError
from .context import render_page
from .security import with_csp

bp = Blueprint("preview", __name__, url_prefix="/preview")

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https: http:; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
)
MAX_WATCHED_FILES = 5000


class PreviewState:
    """The issue being previewed: its last build's version number and error, if any."""

    def __init__(
        self, issue_dir: Path, settings: Settings, templates_dirs: tuple[Path, ...]
    ) -> None:
        self.issue_dir = issue_dir
        self.settings = settings
        self.templates_dirs = templates_dirs
        self.version = 0
        self.error: str | None = None
        self._fingerprint: tuple = ()
        self._lock = threading.Lock()

    def fingerprint(self) -> tuple:
        """(path, mtime, size) of every source: the issue (not build/), templates/, shared files."""
        entries = []
        shared = self.issue_dir.parent  # newsletter.yml and assets/ shared by every issue
        for path in sorted(shared.glob("*.y*ml")):
            stat = path.stat()
            entries.append((str(path), stat.st_mtime_ns, stat.st_size))
        for root in (self.issue_dir, *self.templates_dirs, shared / "assets"):
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "build" and not d.startswith("."))
                for name in sorted(files):
                    path = Path(folder, name)
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    entries.append((str(path), stat.st_mtime_ns, stat.st_size))
                    if len(entries) >= MAX_WATCHED_FILES:
                        return tuple(entries)
        return tuple(entries)

    def refresh(self) -> int:
        """Rebuild if any source changed since the last build; returns the current version."""
        with self._lock:
            current = self.fingerprint()
            if current != self._fingerprint:
                self._fingerprint = current
                self._build()
            return self.version

    def _build(self) -> None:
        from ..compose.build import build_issue

        try:
            build_issue(self.issue_dir, self.settings)
        except MailerError as exc:
            self.error = str(exc)
        except Exception:  # the editor sees any failure in the page, not a dead server
            self.error = traceback.format_exc(limit=5)
        else:
            self.error = None
        self.version += 1
        status = f"build failed: {self.error}" if self.error else "built"
        print(f"preview: {self.issue_dir.name} {status}", file=sys.stderr, flush=True)


def _state() -> PreviewState:
    return current_app.extensions["preview"]


def _filled(kind: str) -> str:
    from ..compose.personalize import load_built, sample_values

    built = load_built(_state().issue_dir)
    values = sample_values({**built.meta, "base_url": _state().settings.base_url})
    return (built.html if kind == "html" else built.text).fill(values)


@bp.get("/")
def page():
    state = _state()
    version = state.refresh()
    text = None
    if (state.issue_dir / "build" / "email.txt").is_file():
        try:
            text = _filled("text")
        except MailerError as exc:
            state.error = state.error or str(exc)
    response = current_app.make_response(
        render_page(
            "preview.html",
            slug=state.issue_dir.name,
            version=version,
            error=state.error,
            text=text,
            has_build=text is not None,
        )
    )
    return with_csp(response, PAGE_CSP)


@bp.get("/email.html")
def email_html():
    state = _state()
    state.refresh()
    try:
        body = _filled("html")
    except MailerError as exc:
        body = f"<!doctype html><title>not built</title><p>{escape(str(exc))}</p>"
    return with_csp(current_app.response_class(body, mimetype="text/html"), EMAIL_CSP)


@bp.get("/version")
def version():
    state = _state()
    return jsonify(version=state.refresh(), error=state.error is not None)


def init_app(app: Flask) -> None:
    """Register the preview (editor mode only) and build the issue once at start."""
    state = PreviewState(
        app.config["PREVIEW_ISSUE"], app.config["SETTINGS"], app.config["TEMPLATE_DIRS"]
    )
    app.extensions["preview"] = state
    app.register_blueprint(bp)
    state.refresh()
