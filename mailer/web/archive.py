"""The archive: the issues that have been sent, their web versions, images and calendar files."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

from .context import render_page
from .database import get_db
from .security import FILE_CSP, ISSUE_CSP, with_csp

bp = Blueprint("archive", __name__, url_prefix="/archive")

SLUG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
IMAGE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.(png|jpe?g|gif|webp|svg|avif)")
CALENDAR_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,199}\.ics")
SENT_CACHE_SECONDS = 30.0
_sent_cache: dict[tuple[str, str], float] = {}
_sent_cache_lock = threading.Lock()


def build_dir(slug: str) -> Path | None:
    """The build folder of issue `slug`, or None for a name that is not a plain slug."""
    if not SLUG_PATTERN.fullmatch(slug) or ".." in slug:
        return None
    preview = current_app.config["PREVIEW_ISSUE"]
    if preview is not None and preview.name == slug:
        return preview / "build"
    return current_app.config["NEWSLETTERS_DIR"] / slug / "build"


def read_meta(build: Path) -> dict | None:
    try:
        return json.loads((build / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_published(slug: str) -> bool:
    """Sent (the ledger has a `sent` row for it), or the issue open in the editor's preview."""
    preview = current_app.config["PREVIEW_ISSUE"]
    if preview is not None and preview.name == slug:
        return True
    db_path = current_app.config["SETTINGS"].db_path
    if preview is not None and not Path(db_path).exists():
        return False  # preview mode never creates a database just to look
    key = (str(db_path), slug)
    with _sent_cache_lock:
        if _sent_cache.get(key, 0.0) > time.monotonic():
            return True
    try:
        row = (
            get_db()
            .execute(  # rows folded after the ledger's retention still count
                "SELECT 1 FROM deliveries WHERE issue = ? AND state = 'sent' UNION ALL "
                "SELECT 1 FROM delivery_counts WHERE issue = ? AND outcome = 'sent' LIMIT 1",
                [slug, slug],
            )
            .fetchone()
        )
    except sqlite3.OperationalError:  # no ledger table yet: nothing has been sent
        return False
    if row:
        with _sent_cache_lock:
            _sent_cache[key] = time.monotonic() + SENT_CACHE_SECONDS
    return bool(row)


def published_issues() -> list[dict]:
    """meta.json of every built and published issue, newest first."""
    root: Path = current_app.config["NEWSLETTERS_DIR"]
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    preview = current_app.config["PREVIEW_ISSUE"]
    if preview is not None and preview not in folders:
        folders.append(preview)
    issues = []
    for folder in folders:
        meta = read_meta(folder / "build")
        if meta and meta.get("slug", folder.name) == folder.name and is_published(folder.name):
            issues.append({**meta, "slug": folder.name})
    return sorted(issues, key=lambda m: (str(m.get("date", "")), m["slug"]), reverse=True)


@bp.get("/")
def index():
    return render_page("archive.html", issues=published_issues())


@bp.get("/<slug>/")
def issue(slug: str):
    build = build_dir(slug)
    if build is None or not (build / "web.html").is_file() or not is_published(slug):
        abort(404)
    response = current_app.response_class((build / "web.html").read_bytes(), mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    return with_csp(response, ISSUE_CSP)


@bp.get("/<slug>/images/<filename>")
def image(slug: str, filename: str):
    build = build_dir(slug)
    if build is None or not IMAGE_PATTERN.fullmatch(filename) or not is_published(slug):
        abort(404)
    response = send_from_directory(build / "images", filename, max_age=86400)
    return with_csp(response, FILE_CSP)


@bp.get("/<slug>/attachments/<filename>")
def attachment(slug: str, filename: str):
    """A file the issue was sent with (issue.md `attachments:`); only names meta.json lists."""
    build = build_dir(slug)
    if build is None or not is_published(slug):
        abort(404)
    listed = {
        str(a.get("file")): str(a.get("type"))
        for a in (read_meta(build) or {}).get("attachments", ())
    }
    if filename not in listed or not (build / "attachments" / filename).is_file():
        abort(404)
    response = send_from_directory(
        build / "attachments",
        filename,
        mimetype=listed[filename],
        download_name=filename,
        max_age=86400,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return with_csp(response, FILE_CSP)


@bp.get("/<slug>/issue.pdf")
def pdf(slug: str):
    """The issue as sent, printed to PDF for the project's records (`build --pdf`, `send`)."""
    build = build_dir(slug)
    if build is None or not is_published(slug) or not (build / "issue.pdf").is_file():
        abort(404)
    response = send_from_directory(
        build, "issue.pdf", mimetype="application/pdf", download_name=f"{slug}.pdf", max_age=300
    )
    return with_csp(response, FILE_CSP)


@bp.get("/<slug>/<filename>")
def calendar(slug: str, filename: str):
    """An issue's .ics file (the invitation, an events section), for "Lägg till i kalendern"."""
    build = build_dir(slug)
    if build is None or not CALENDAR_PATTERN.fullmatch(filename) or not is_published(slug):
        abort(404)
    path = build / filename
    if not path.is_file():
        abort(404)
    response = current_app.response_class(path.read_bytes())
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-{filename}"'
    response.headers["Cache-Control"] = "public, max-age=300"
    return with_csp(response, FILE_CSP)
