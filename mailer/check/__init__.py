"""The quality gate: `check_issue` tells the editor what will break before anyone is mailed."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from .accessibility import check_accessibility
from .context import CheckContext, load_context
from .images import check_images, is_loopback
from .links import check_links
from .report import Finding, Report
from .size import check_size
from .spam import check_spam
from .structure import check_structure
from .support import check_support

__all__ = ["CHECKS", "Finding", "Report", "check_issue"]

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
    before_send: bool = False,
    render: bool = False,
    screenshots: Path | None = None,
    chromium: str | None = None,
) -> Report:
    """Run every check on `issue_dir/build/`; errors mean the issue should not be sent.

    Raises `IssueError` when there is no build to check. `spam=False` skips SpamAssassin
    (about 2 s), e.g. for a quick look while writing. `before_send` adds what only matters
    when real people are about to be mailed: a base URL on this computer is then an error.
    `render` looks at the email in headless Chromium (`chromium`, found when None) at phone
    and desktop widths, about 3 s; `screenshots` is a folder for the PNGs it takes.
    """
    issue_dir = Path(issue_dir)
    context = load_context(issue_dir, settings)
    report = Report(issue=str(context.meta.get("slug") or issue_dir.name))
    _check_freshness(context, report)
    if before_send:
        _check_public_base_url(settings, report)
    for name, check in CHECKS.items():
        if name == "spam" and not spam:
            continue
        check(context, report)
    if render or screenshots:
        from .rendering import check_rendering

        check_rendering(context, report, chromium=chromium, screenshots=screenshots)
    return report


def _check_public_base_url(settings: Settings, report: Report) -> None:
    """Links made from a loopback base URL reach nobody: no unsubscribe, no images (a legal
    problem, not a cosmetic one), so a real send stops on it while previews and checks only warn.
    """
    if is_loopback(settings.base_url):
        report.add(
            Finding(
                "error",
                "links",
                "base-url-loopback",
                f"NEWSLETTER_BASE_URL={settings.base_url} is this computer: recipients' "
                "unsubscribe links, List-Unsubscribe and images would lead nowhere",
                "set NEWSLETTER_BASE_URL to the public https address of `newsletter serve` "
                "(in .env); the issue is rebuilt with it when you send again",
            )
        )


def _check_freshness(context: CheckContext, report: Report) -> None:
    try:
        from ..compose.build import is_stale
    except ImportError:
        return
    if is_stale(context.issue_dir, context.settings):
        report.add(
            Finding(
                "warning",
                "build",
                "build-stale",
                "the build does not match the issue's files, templates or base URL: this report "
                "is about the old build",
                f"rebuild first: newsletter build {context.issue_dir}",
                str(context.build_dir),
            )
        )
