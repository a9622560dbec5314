"""`build_issue`: an issue folder to build/ (email.html, email.txt, web.html, meta.json, images/,
and .ics calendar files for an invitation or events).

The build is all-or-nothing: everything is rendered and written into a temporary folder beside
build/, which then replaces build/ in one rename. A failed build leaves the previous one as it
was. Output bytes depend only on the sources, templates, code and base URL (no timestamps).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from ..config import Settings
from ..errors import IssueError
from .attachments import ATTACHMENTS_DIR
from .clicks import count_links
from .ics import INVITATION_FILE, issue_calendars
from .inline import inline_css
from .issue import Issue, read_issue
from .metadata import strip_metadata
from .personalize import MARKER, Template, check_field_markers, neutral_values
from .render import issue_context, make_environment, render, template_dirs

# Gmail's limits, in decimal kilobytes (the safe side of the "102 KB" and "16 KB" quoted for it);
# one threshold for build and check, which reads them from here.
GMAIL_CLIP_BYTES = 102_000
GMAIL_STYLE_BYTES = 16_000

BUILD_DIR = "build"
# The code whose change changes the output: this wing and the string catalogues.
CODE_DIRS = ("compose", "locale")


@dataclass(frozen=True)
class BuildResult:
    """Where the build went and what it contains; `warnings` are worth showing the editor."""

    out_dir: Path
    html_path: Path
    text_path: Path
    web_path: Path
    meta_path: Path
    meta: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())


def _input_files(issue: Issue, templates_dirs: tuple[Path, ...]) -> list[tuple[str, Path]]:
    files = [(f"source/{p.name}", p) for p in issue.source_files]
    files += [(f"image/{name}", image.path) for name, image in issue.images.items()]
    files += [(f"attachment/{a.name}", a.path) for a in issue.attachments]
    for index, folder in enumerate(templates_dirs):
        # the last folder is the bundled one; those before it are the site's overrides
        label = "template" if index == len(templates_dirs) - 1 else f"site-template-{index}"
        files += [
            (f"{label}/{p.relative_to(folder).as_posix()}", p)
            for sub in ("email", "text", "web_issue")
            for p in sorted((folder / sub).rglob("*"))
            if p.is_file()
        ]
    package = Path(__file__).resolve().parents[1]
    files += [
        (f"code/{p.relative_to(package).as_posix()}", p)
        for folder in CODE_DIRS
        for p in sorted((package / folder).rglob("*.py"))
    ]
    return files


def _folders(templates_dir: Path | tuple[Path, ...] | None, settings: Settings | None):
    """The template folders of a build: one given folder (tests), else the site's chain."""
    if templates_dir is None:
        return template_dirs(settings)
    return (Path(templates_dir),) if isinstance(templates_dir, Path | str) else templates_dir


def source_hash(
    issue: Issue,
    base_url: str,
    templates_dir: Path | tuple[Path, ...] | None = None,
    settings: Settings | None = None,
    *,
    click_counting: bool | None = None,
) -> str:
    """SHA-256 over every input of the build: sources, images, templates (the site's overrides
    and the bundled ones), code, base URL, and click counting when it is on (so turning it on
    or off makes the build stale; hashes of builds without it stay as they were).
    `click_counting` None: taken from `settings` (off without settings)."""
    digest = hashlib.sha256(f"base_url={base_url.rstrip('/')}\n".encode())
    if click_counting is None:
        click_counting = settings is not None and settings.click_counting == "on"
    if click_counting:
        digest.update(b"click_counting=on\n")
    for name, path in sorted(_input_files(issue, _folders(templates_dir, settings))):
        data = path.read_bytes()
        digest.update(f"{name}\n{len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()


def is_stale(issue_dir: Path, settings: Settings | None = None) -> bool:
    """True when build/ is missing or was made from other sources (or another base URL)."""
    meta_path = Path(issue_dir) / BUILD_DIR / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        issue = read_issue(Path(issue_dir))
    except (OSError, ValueError, IssueError):
        return True
    base = settings.base_url if settings else str(meta.get("base_url", ""))
    counting = None if settings else bool(meta.get("click_counting"))
    return meta.get("source_hash") != source_hash(
        issue, base, settings=settings, click_counting=counting
    )


def _style_bytes(html: str) -> int:
    return sum(len(m.encode()) for m in re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


@functools.lru_cache(maxsize=4)
def _cached_environment(templates_dirs: tuple[Path, ...], _overrides: tuple) -> jinja2.Environment:
    return make_environment(templates_dirs)


def _environment(templates_dirs: tuple[Path, ...]) -> jinja2.Environment:
    """One environment per template folders and process: compiled templates are reused across
    builds (preview rebuilds often). Jinja re-reads a template whose file changed or went; a
    site template added since (an override Jinja cannot know of) makes a new environment."""
    overrides = tuple(
        tuple(sorted(str(p) for p in folder.rglob("*") if p.is_file()))
        for folder in templates_dirs[:-1]
    )
    return _cached_environment(templates_dirs, overrides)


def _render(
    issue: Issue, settings: Settings, templates_dirs: tuple[Path, ...]
) -> tuple[str, str, str, dict, dict[str, str]]:
    env = _environment(templates_dirs)
    context = issue_context(issue, settings)
    calendars = issue_calendars(issue, context["base_url"], context["web_url"])
    email_html = inline_css(render(env, "email/issue.html", {**context, "variant": "email"}))
    email_text = _tidy_text(render(env, "text/issue.txt", context))
    web_source = render(env, "web_issue/web.html", {**context, "variant": "web"})
    check_field_markers(email_html + email_text + web_source, str(issue.path))
    web_html = Template(web_source, escape_html=True).fill(neutral_values(context["base_url"]))
    counting = settings.click_counting == "on"
    links: dict[str, str] = {}
    if counting:  # only the email: the text part and the web version keep the real addresses
        email_html, links = count_links(email_html, context["base_url"], issue.slug)
    meta = {
        "slug": issue.slug,
        "title": issue.title,
        "subject": issue.subject,
        "issue_number": issue.number,
        "date": issue.date.isoformat(),
        "language": issue.language,
        "list": issue.list_name,
        "preheader": issue.preheader,
        "web_url": context["web_url"],
        "base_url": context["base_url"],
        "organisation": issue.site["organisation"],
        "placeholders": sorted({m.group(1) for m in MARKER.finditer(email_html + email_text)}),
        "sections": [{"file": s.name, "layout": s.layout} for s in issue.sections],
        "images": sorted(issue.images),
        "timezone": issue.timezone,
        "calendars": sorted(calendars),
        "attach_ics": INVITATION_FILE if issue.attach_ics else "",
        "attachments": [
            {"file": a.name, "size": a.size, "type": a.content_type} for a in issue.attachments
        ],
        "sizes": {
            "email_html": len(email_html.encode()),
            "email_txt": len(email_text.encode()),
            "web_html": len(web_html.encode()),
            "style_block": _style_bytes(email_html),
        },
        "source_hash": source_hash(
            issue, settings.base_url, templates_dirs, click_counting=counting
        ),
    }
    if counting:  # absent when off, so meta.json of such builds stays byte for byte the same
        meta["click_counting"] = True
        meta["links"] = links
    return email_html, email_text, web_html, meta, calendars


def _swap_into_place(new_dir: Path, target: Path) -> None:
    """Make `new_dir` become `target`; the old build (if any) ends up in `new_dir`."""
    if target.exists():
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = getattr(libc, "renameat2", None)
        at_fdcwd, rename_exchange = -100, 2
        if (
            renameat2
            and renameat2(at_fdcwd, bytes(new_dir), at_fdcwd, bytes(target), rename_exchange) == 0
        ):
            return  # atomic exchange (Linux): readers never see build/ missing
        old = new_dir.with_name(new_dir.name + "-old")
        os.rename(target, old)
        os.rename(new_dir, target)
        os.rename(old, new_dir)
        return
    os.rename(new_dir, target)


WORK_NAME = re.compile(r"^\.build-(?:(\d+)-)?[^/]*$")
LEGACY_WORK_AGE = 3600  # seconds: a work folder without a process id is left that long


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_work(issue_dir: Path) -> list[Path]:
    """Delete `.build-PID-XXXX/` folders whose build process is gone (a build killed during
    its swap leaves one); a running build's folder, and a fresh one without a PID, stay."""
    removed = []
    for path in Path(issue_dir).glob(".build-*"):
        match = WORK_NAME.match(path.name)
        if not match or not path.is_dir() or path.is_symlink():
            continue
        pid = match.group(1)
        if pid is not None:
            stale = int(pid) != os.getpid() and not _running(int(pid))
        else:
            stale = time.time() - path.stat().st_mtime > LEGACY_WORK_AGE
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def build_issue(
    issue_dir: Path, settings: Settings, *, templates_dir: Path | None = None
) -> BuildResult:
    """Read, render, inline and write the issue atomically into issue_dir/build/.

    The templates are the site's templates/ over the bundled ones, or only `templates_dir`.
    """
    issue_dir = Path(issue_dir)
    issue = read_issue(issue_dir)
    email_html, email_text, web_html, meta, calendars = _render(
        issue, settings, _folders(templates_dir, settings)
    )
    target = issue_dir / BUILD_DIR
    remove_stale_work(issue_dir)
    work = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=issue_dir))
    try:
        _write(work / "email.html", email_html)
        _write(work / "email.txt", email_text)
        _write(work / "web.html", web_html)
        for name, text in calendars.items():
            (work / name).write_bytes(text.encode("utf-8"))  # CRLF line ends, as RFC 5545 says
        (work / "images").mkdir()
        for name, image in issue.images.items():  # published: no GPS, serial, owner...
            published = strip_metadata(image.path.read_bytes(), str(image.path))
            (work / "images" / name).write_bytes(published)
        if issue.attachments:
            (work / ATTACHMENTS_DIR).mkdir()
            for attachment in issue.attachments:
                shutil.copyfile(attachment.path, work / ATTACHMENTS_DIR / attachment.name)
        _write(
            work / "meta.json",
            json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        )
        os.chmod(work, 0o755)  # noqa: S103 - mkdtemp makes 0700; the web server must read it
        _swap_into_place(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    warnings = []
    if meta["sizes"]["email_html"] > GMAIL_CLIP_BYTES * 0.7:
        warnings.append(
            f"email.html is {meta['sizes']['email_html']} bytes; Gmail clips messages over "
            f"{GMAIL_CLIP_BYTES} bytes as sent (encoding adds up to a third): shorten the issue"
        )
    if meta["sizes"]["style_block"] > GMAIL_STYLE_BYTES:
        warnings.append("the <style> block is over 16 KB; Gmail would drop it")
    return BuildResult(
        out_dir=target,
        html_path=target / "email.html",
        text_path=target / "email.txt",
        web_path=target / "web.html",
        meta_path=target / "meta.json",
        meta=meta,
        warnings=tuple(warnings),
    )
