"""The editor's live preview: the email at desktop width, at 375 px and in a 320 px phone frame
(the narrowest phones still in use: a table or word that does not fit shows there first), and
the plain text.

The page keeps one question open, `/preview/changes?since=N` (a long-poll, editor mode only):
the server looks at the modification times of the issue's files and of `templates/` every
`WATCH_INTERVAL` seconds, rebuilds when one changed and answers at once with the new version;
the page then puts the new email into its frames in place (keeping their scroll position)
instead of waiting for a poll. Each question is answered within `WAIT_SECONDS` (the page asks
again) and at most `MAX_WAITERS` are held open at a time, so the waitress threads stay free
for the frames.
A build error is shown in the page (and printed in the terminal) until the next good build.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from html import escape
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request

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
WATCH_INTERVAL = 0.04  # seconds between looks at the files while a page waits
WAIT_SECONDS = 20.0  # a waiting question is answered after this even when nothing changed
MAX_WAITERS = 4  # open questions at a time (the preview serves with 8 threads)


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
        self._waiters = threading.BoundedSemaphore(MAX_WAITERS)

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

    def wait_for_change(self, since: int, timeout: float = WAIT_SECONDS) -> tuple[int, bool]:
        """The version once it differs from `since`, or after `timeout` seconds: (version, busy).

        `busy` is True when `MAX_WAITERS` questions are already open: the answer comes at once
        and the page waits a second before asking again.
        """
        if not self._waiters.acquire(blocking=False):
            return self.refresh(), True
        try:
            deadline = time.monotonic() + timeout
            while True:
                version = self.refresh()
                if version != since or time.monotonic() >= deadline:
                    return version, False
                time.sleep(WATCH_INTERVAL)
        finally:
            self._waiters.release()

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


@bp.get("/changes")
def changes():
    """Answer when the issue has been rebuilt since version `since` (or after WAIT_SECONDS)."""
    state = _state()
    since = request.args.get("since", type=int)
    if since is None:
        since = -1  # a page that knows no version gets the current one at once
    timeout = current_app.config.get("PREVIEW_WAIT_SECONDS", WAIT_SECONDS)
    version, busy = state.wait_for_change(since, timeout=timeout)
    response = jsonify(version=version, error=state.error is not None, busy=busy)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the preview (editor mode only) and build the issue once at start."""
    state = PreviewState(
        app.config["PREVIEW_ISSUE"], app.config["SETTINGS"], app.config["TEMPLATE_DIRS"]
    )
    app.extensions["preview"] = state
    app.register_blueprint(bp)
    state.refresh()
