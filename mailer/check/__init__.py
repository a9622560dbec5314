"""The quality gate: `check_issue` tells the editor what will break before anyone is mailed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config import Settings
from .accessibility import check_accessibility
from .context import CheckContext, load_context
from .gate import check_gate
from .images import check_images
from .links import check_links
from .report import Finding, Report
from .size import check_size
from .spam import check_spam
from .structure import check_structure
from .support import check_support

__all__ = ["CHECKS", "Finding", "Report", "check_content", "check_issue"]

CHECKS = {
    "size": check_size,
    "structure": check_structure,
    "images": check_images,
    "links": check_links,
    "support": check_support,
    "accessibility": check_accessibility,
    "spam": check_spam,
}


def check_issue(
    issue_dir: Path,
    settings: Settings,
    *,
    spam: bool = True,
    list_name: str | None = None,
    render: bool = False,
    screenshots: Path | None = None,
    chromium: str | None = None,
    server_lists: Callable[[], dict[str, dict[str, int]]] | None = None,
) -> Report:
    """`newsletter check`, and the gate of `newsletter send`: errors mean send refuses the issue.

    One function for both, so the verdict of one is what the other does: what sending needs
    (`gate.py`: sender, public base URL, no sample text, a fresh build, a list with people on
    it; `list_name` is send's --list), then the content checks. Raises `IssueError` when there
    is no build to check. `spam=False` skips SpamAssassin (about 2 s). `render` looks at the
    email in headless Chromium (`chromium`, found when None) at phone and desktop widths,
    about 3 s; `screenshots` is a folder for the PNGs it takes. With NEWSLETTER_SERVER the list
    lives on the server: `server_lists()` asks it for the counts per list and status.
    """
    context = load_context(Path(issue_dir), settings)
    report = Report(issue=str(context.meta.get("slug") or context.issue_dir.name))
    check_gate(context.issue_dir, settings, context.meta, report, list_name, server_lists)
    _run_checks(context, report, spam, render, screenshots, chromium)
    return report


def check_content(
    issue_dir: Path,
    settings: Settings,
    *,
    spam: bool = True,
    render: bool = False,
    screenshots: Path | None = None,
    chromium: str | None = None,
) -> Report:
    """The checks of the built message itself (size, structure, images, links, client
    support, accessibility, spam, rendering), without the send gate: what tests of one check
    call."""
    context = load_context(Path(issue_dir), settings)
    report = Report(issue=str(context.meta.get("slug") or context.issue_dir.name))
    _run_checks(context, report, spam, render, screenshots, chromium)
    return report


def _run_checks(context: CheckContext, report: Report, spam, render, screenshots, chromium):
    for name, check in CHECKS.items():
        if name == "spam" and not spam:
            continue
        check(context, report)
    if render or screenshots:
        from .rendering import check_rendering

        check_rendering(context, report, chromium=chromium, screenshots=screenshots)
