"""The send gate: what `newsletter send` refuses besides the content checks, run by `check` too.

One list of reasons, so `check` never says "ready to send" about an issue that `send` would
stop: no sender (NEWSLETTER_FROM unset), a base URL on this computer (any port), sample text
of `newsletter new` left in, a build that is stale or whose sources no longer build, and a list
that does not exist or has nobody on it. `--force` sends anyway (a local trial); `--to` sends
one test copy without the gate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..audience import subscribers
from ..compose.build import is_stale
from ..compose.issue import SITE_FILE, read_issue
from ..compose.scaffold import sample_phrases
from ..config import Settings
from ..errors import IssueError, MailerError, SubscriberError
from ..store.db import open_db
from .identity import check_identity
from .images import is_loopback
from .report import Finding, Report

FORCE_HINT = "for a local trial: newsletter send ... --force, or --to ADDRESS for one copy"


def check_gate(
    issue_dir: Path,
    settings: Settings,
    meta: dict,
    report: Report,
    list_name: str | None,
    server_lists: Callable[[], dict[str, dict[str, int]]] | None = None,
) -> None:
    """Add an error for each reason `newsletter send` (without --force) would refuse."""
    _check_sender(settings, report)
    if not settings.server_url:  # with a server, the server signs the links (its own key)
        _check_secret_key(settings, report)
    _check_base_url(settings, report)
    _check_return_path(settings, report)
    sources_list = _check_build(issue_dir, settings, report)
    _check_sample_text(issue_dir, report)
    # send rebuilds a stale build first, so the list it mails is the one the sources name
    named = list_name or sources_list or str(meta.get("list") or subscribers.DEFAULT_LIST)
    if not settings.server_url:
        _check_list(settings, named, report)
    elif server_lists is not None:  # the list lives on the server: ask it
        _check_server_list(server_lists, named, report)
    else:
        report.add(
            Finding(
                "note",
                "send",
                "list-on-server",
                f"list {named!r} is on {settings.server_url}; `send` asks the server about it",
                "set NEWSLETTER_API_TOKEN to have `check` ask the server too",
            )
        )


def _check_server_list(
    server_lists: Callable[[], dict[str, dict[str, int]]], list_name: str, report: Report
) -> None:
    """The list check of a laptop: the server's counts per list and status."""
    try:
        counts = server_lists()
    except MailerError as exc:
        report.add(
            Finding(
                "warning",
                "send",
                "list-not-asked",
                f"could not ask the server about list {list_name!r}: {exc}",
                "`send` asks again and refuses an unknown or empty list",
            )
        )
        return
    if list_name not in counts:
        _add(
            report,
            "list-unknown",
            f"the server has no list {list_name!r} (it has: {', '.join(sorted(counts)) or 'none'})",
            f"correct `list:` in issue.md, or add people: newsletter subscribers import "
            f"FILE.csv --list {list_name}",
        )
        return
    _count_recipients(report, list_name, int(counts[list_name].get("active", 0)))


def _add(report: Report, code: str, message: str, advice: str, where: str = "", line=None):
    report.add(Finding("error", "send", code, message, advice, where, line))


def _check_sender(settings: Settings, report: Report) -> None:
    if settings.sender_missing:
        _add(
            report,
            "sender-missing",
            "NEWSLETTER_FROM is not set: the issue would go out from the placeholder "
            f"{settings.from_address!r}",
            "set NEWSLETTER_FROM in .env, e.g. 'Region Örebro län <nyhetsbrev@example.se>' "
            "(`newsletter config` shows every setting and where it comes from)",
        )


def _check_return_path(settings: Settings, report: Report) -> None:
    """Without VERP a bounce report is matched by the address it names: a note, not a refusal
    (bounces issue 20; see README "Bounces and complaints")."""
    if not settings.bounce_address:
        report.add(
            Finding(
                "note",
                "send",
                "bounces-by-address",
                "NEWSLETTER_BOUNCE_ADDRESS is not set: bounces come back to the From address "
                "and are matched by the address they name, which anyone can forge",
                "set NEWSLETTER_BOUNCE_ADDRESS=bounces@your-domain (VERP): each message then "
                "carries its own token, and only reports carrying it end a subscription",
            )
        )


def _check_secret_key(settings: Settings, report: Report) -> None:
    """The rule `send` applies (`Settings.secret_key_problem`): its links are signed."""
    problem = settings.secret_key_problem
    if problem:
        message, _, advice = problem.partition("; ")
        _add(report, "secret-key", message, advice)


def _check_base_url(settings: Settings, report: Report) -> None:
    """Links made from a loopback base URL reach nobody: no unsubscribe, no images (a legal
    problem, not a cosmetic one)."""
    if is_loopback(settings.base_url):
        _add(
            report,
            "base-url-loopback",
            f"NEWSLETTER_BASE_URL={settings.base_url} is this computer: recipients' "
            "unsubscribe links, List-Unsubscribe and images would lead nowhere",
            "set NEWSLETTER_BASE_URL to the public https address of `newsletter serve` (in "
            f".env); the issue is rebuilt with it when you send; {FORCE_HINT}",
        )


def _check_build(issue_dir: Path, settings: Settings, report: Report) -> str | None:
    """Errors for a build that is not what send would mail; the sources' list when they read."""
    try:
        issue = read_issue(issue_dir)
    except IssueError as exc:
        _add(
            report,
            "build-failed",
            f"the sources no longer build ({exc}); this report is about the old build",
            f"fix the sources, then: newsletter build {issue_dir}",
        )
        return None
    check_identity(issue, report)  # warnings: a footer that mixes two organisations
    if is_stale(issue_dir, settings):
        _add(
            report,
            "build-stale",
            "the build does not match the issue's files, templates or base URL: this report "
            "is about the old build",
            f"rebuild first: newsletter build {issue_dir}",
            str(issue_dir / "build"),
        )
    return issue.list_name


def _check_sample_text(issue_dir: Path, report: Report) -> None:
    phrases = sample_phrases()
    files = [issue_dir / "issue.md", *sorted(issue_dir.glob("[0-9]*.md"))]
    files.append(issue_dir.parent / SITE_FILE)
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # unreadable files are the build's to report
        for number, line in enumerate(lines, 1):
            if path.suffix == ".yml" and line.lstrip().startswith("#"):
                continue  # a comment in newsletter.yml (its sample logo_alt, say) is not sent
            hits = [(line.find(p), p) for p in phrases if p in line]  # longest first
            found = min(hits, key=lambda hit: hit[0])[1] if hits else None
            if found:
                _add(
                    report,
                    "sample-text",
                    f"sample text from `newsletter new` is still there: {found!r}",
                    "write the issue's own text (and image descriptions) in its place",
                    str(path),
                    number,
                )


def _check_list(settings: Settings, list_name: str, report: Report) -> None:
    db_path = Path(settings.db_path)
    if not db_path.is_file():
        _add(
            report,
            "list-unknown",
            f"no subscriber database at {db_path}: list {list_name!r} has nobody to mail",
            "add people: newsletter subscribers import FILE.csv --list "
            f"{list_name} (or point NEWSLETTER_DB at the database)",
        )
        return
    db = open_db(db_path)
    try:
        try:
            count = sum(1 for _ in subscribers.active_recipients(db, list_name))
        except SubscriberError as exc:
            _add(
                report,
                "list-unknown",
                str(exc),
                f"correct `list:` in issue.md, or add people: newsletter subscribers import "
                f"FILE.csv --list {list_name}",
            )
            return
    finally:
        db.close()
    _count_recipients(report, list_name, count)


def _count_recipients(report: Report, list_name: str, count: int) -> None:
    """The list's active people, here or on the server: nobody is an error."""
    report.facts["list"] = list_name
    report.facts["recipients"] = count
    if count == 0:
        _add(
            report,
            "list-empty",
            f"list {list_name!r} has no active subscribers: nobody would get the issue",
            f"add people: newsletter subscribers import FILE.csv --list {list_name}",
        )
