"""The figures of `newsletter report`: what a funder asks about the communication. Per issue:
delivered, failed, bounced (hard/soft), complaints, unsubscribed within 7 days, and aggregate
clicks where the issue was built with click counting; per month and list: list size at the end
of the month, sign-ups and unsubscriptions.

Only counts leave this module: no address, no person. (`delivery/report.py` is the send plan;
text, CSV and charts of these figures are in `funder_output` and `funder_charts`.)
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from ..config import Settings
from ..errors import MailerError
from ..store.db import open_db
from .bounces.report import issue_counts
from .clicks import issue_clicks

UNSUBSCRIBE_WINDOW_DAYS = 7
# consent-log actions that make a subscription active (counted as sign-ups when they do), and
# those that end one; a 'subscribe' is a double opt-in waiting for its confirmation, except
# from the preferences page (detail 'preferences'), which activates at once
SIGN_UP_ACTIONS = ("confirm", "add", "import")
ACTIVATING = (*SIGN_UP_ACTIONS, "reactivate")
ENDING = ("unsubscribe", "bounce", "complaint", "purge")


class ReportError(MailerError):
    """`newsletter report` cannot answer: an issue never sent, no database."""


@dataclass
class IssueFigures:
    """One sent issue. `clicks` is None when it was built without click counting."""

    issue: str
    title: str
    date: str
    lists: list[str]
    first_sent: str
    delivered: int
    failed: int
    hard_bounces: int
    soft_bounces: int
    complaints: int
    unsubscribed_7d: int
    links: dict[int, str] = field(default_factory=dict)
    clicks: dict[int, int] | None = None

    @property
    def total_clicks(self) -> int | None:
        return None if self.clicks is None else sum(self.clicks.values())


@dataclass
class MonthFigures:
    """One list in one month (UTC): active subscriptions at its end, sign-ups, unsubscriptions."""

    month: str  # YYYY-MM
    list_name: str
    size: int
    sign_ups: int
    unsubscriptions: int


@dataclass
class FunderReport:
    issues: list[IssueFigures]
    months: list[MonthFigures]
    language: str  # of the newest issue reported: chart titles use it


def delivery_counts(db: Database, issue: str | None = None) -> dict[str, dict]:
    """Per issue that has sent copies: {"sent", "failed", "first_sent", "list_ids"}.

    The one place that reads the send ledger for the report: the per-recipient rows still kept,
    plus the per-issue counts they are folded into after NEWSLETTER_LEDGER_RETENTION_DAYS
    (`delivery_counts`, delivery.retention), so an old issue's figures stay true."""
    found: dict[str, dict] = {}

    def add(slug: str, sent: int, failed: int, first: str | None, list_ids: set[int]) -> None:
        entry = found.setdefault(slug, {"sent": 0, "failed": 0, "first_sent": "", "ids": set()})
        entry["sent"] += sent or 0
        entry["failed"] += failed or 0
        if first and (not entry["first_sent"] or first < entry["first_sent"]):
            entry["first_sent"] = first
        entry["ids"] |= list_ids

    for slug, sent, failed, first, ids in db.execute(
        "SELECT issue, sum(state = 'sent'), sum(state = 'failed'), "
        "min(CASE WHEN state = 'sent' THEN sent_at END), "
        "group_concat(DISTINCT list_id) FROM deliveries "
        "WHERE (? IS NULL OR issue = ?) GROUP BY issue",
        [issue, issue],
    ).fetchall():
        add(slug, sent, failed, first, {int(x) for x in (ids or "").split(",") if x})
    if db["delivery_counts"].exists():
        for slug, list_id, outcome, count, first in db.execute(
            "SELECT issue, list_id, outcome, count, first_sent_at FROM delivery_counts "
            "WHERE (? IS NULL OR issue = ?) AND outcome IN ('sent', 'failed')",
            [issue, issue],
        ).fetchall():
            sent, failed = (count, 0) if outcome == "sent" else (0, count)
            add(
                slug,
                sent,
                failed,
                first if outcome == "sent" else None,
                {int(list_id)} if list_id else set(),
            )
    return {
        slug: {
            "sent": entry["sent"],
            "failed": entry["failed"],
            "first_sent": entry["first_sent"],
            "list_ids": sorted(entry["ids"]),
        }
        for slug, entry in found.items()
        if entry["sent"] > 0
    }


def _shift(timestamp: str, days: int) -> str:
    """A database time (ISO, UTC, 'Z') moved by `days`, in the same text format."""
    moment = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return (moment + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unsubscribed_within(db: Database, list_ids: list[int], start: str, days: int) -> int:
    """Unsubscriptions from `list_ids` logged in [start, start + days)."""
    if not list_ids or not start:
        return 0
    marks = ", ".join("?" for _ in list_ids)
    return db.execute(
        "SELECT count(*) FROM consent_log WHERE action = 'unsubscribe' "  # noqa: S608 - only placeholders are formatted in
        f"AND list_id IN ({marks}) AND at >= ? AND at < ?",
        [*list_ids, start, _shift(start, days)],
    ).fetchone()[0]


def _list_names(db: Database) -> dict[int, str]:
    return dict(db.execute("SELECT id, name FROM lists").fetchall())


def _meta(newsletters_dir: Path | None, slug: str) -> dict:
    if newsletters_dir is None:
        return {}
    try:
        meta = json.loads((newsletters_dir / slug / "build" / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def issue_figures(
    db: Database, newsletters_dir: Path | None, issue: str | None
) -> list[IssueFigures]:
    """IssueFigures of every sent issue (or of `issue`), in the order they were first sent."""
    names = _list_names(db)
    figures = []
    for slug, counts in delivery_counts(db, issue).items():
        meta = _meta(newsletters_dir, slug)
        bounces = issue_counts(db, slug)
        counted = bool(meta.get("click_counting"))
        links = {int(n): str(url) for n, url in (meta.get("links") or {}).items()}
        figures.append(
            IssueFigures(
                issue=slug,
                title=str(meta.get("title", "")),
                date=str(meta.get("date", "")) or counts["first_sent"][:10],
                lists=[names.get(i, str(i)) for i in counts["list_ids"]],
                first_sent=counts["first_sent"],
                delivered=counts["sent"],
                failed=counts["failed"],
                hard_bounces=bounces.get("hard", 0),
                soft_bounces=bounces.get("soft", 0),
                complaints=bounces.get("complaint", 0),
                unsubscribed_7d=unsubscribed_within(
                    db, counts["list_ids"], counts["first_sent"], UNSUBSCRIBE_WINDOW_DAYS
                ),
                links=links if counted else {},
                clicks=issue_clicks(db, slug) if counted else None,
            )
        )
    return sorted(figures, key=lambda f: (f.first_sent, f.issue))


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def month_figures(
    db: Database, list_ids: list[int] | None = None, *, now: str = ""
) -> list[MonthFigures]:
    """MonthFigures per list and month, from the list's first consent event to this month.

    The size replays each person's consent events (every change of a subscription is one
    event), so it is the number of active subscriptions at the month's end. People erased
    since have anonymised events that can no longer be tied together: their sign-ups and
    unsubscriptions are counted, but they are left out of the sizes."""
    names = _list_names(db)
    wanted = set(names) if list_ids is None else set(list_ids)
    events = db.execute(
        "SELECT at, action, subscriber_id, list_id, detail FROM consent_log "
        "WHERE list_id IS NOT NULL ORDER BY at, id"
    ).fetchall()
    events = [e for e in events if e[3] in wanted]
    if not events:
        return []
    now = now or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    months = _months(events[0][0][:7], max(now[:7], events[-1][0][:7]))
    active: dict[tuple[int, int], bool] = {}
    sizes = dict.fromkeys(wanted, 0)
    started: set[int] = set()  # lists that have had an event by now
    counts: dict[tuple[str, int], list[int]] = {}
    out: list[MonthFigures] = []
    index = 0
    for month in months:
        while index < len(events) and events[index][0][:7] <= month:
            _at, action, person, list_pk, detail = events[index]
            index += 1
            started.add(list_pk)
            tally = counts.setdefault((month, list_pk), [0, 0])
            turns_on = action in ACTIVATING or (action == "subscribe" and detail == "preferences")
            if person is None:  # anonymised (erased since): counted, not replayed
                tally[0] += action in SIGN_UP_ACTIONS
                tally[1] += action == "unsubscribe"
                continue
            was = active.get((person, list_pk), False)
            if turns_on and not was:
                active[(person, list_pk)] = True
                sizes[list_pk] += 1
                tally[0] += action in SIGN_UP_ACTIONS or action == "subscribe"
            elif action in ENDING and was:
                active[(person, list_pk)] = False
                sizes[list_pk] -= 1
            tally[1] += action == "unsubscribe"
        for list_pk in sorted(started, key=lambda i: names.get(i, "")):
            sign_ups, unsubscriptions = counts.get((month, list_pk), [0, 0])
            out.append(
                MonthFigures(
                    month,
                    names.get(list_pk, str(list_pk)),
                    sizes[list_pk],
                    sign_ups,
                    unsubscriptions,
                )
            )
    return out


def resolve_issue(issue: str | None) -> str | None:
    """An issue argument as a slug: an issue folder's meta.json slug or name, else as given."""
    if issue is None:
        return None
    path = Path(issue)
    if path.is_dir():
        meta = _meta(path.parent, path.name)
        return str(meta.get("slug") or path.resolve().name)
    return issue


def funder_report(
    db: Database, newsletters_dir: Path | None, issue: str | None = None, *, now: str = ""
) -> FunderReport:
    """The report: every sent issue (or one), and the months of their lists (of every list
    without `issue`)."""
    slug = resolve_issue(issue)
    try:
        issues = issue_figures(db, newsletters_dir, slug)
    except sqlite3.OperationalError:  # no ledger yet
        issues = []
    if slug is not None and not issues:
        sent = ", ".join(sorted(delivery_counts(db))[-5:]) or "none yet"
        raise ReportError(
            f"issue {slug!r} has not been sent (no delivered message in the send ledger); "
            f"issues sent: {sent}"
        )
    list_ids = None
    if slug is not None:
        list_ids = sorted({i for f in delivery_counts(db, slug).values() for i in f["list_ids"]})
    months = month_figures(db, list_ids, now=now)
    newest = issues[-1].issue if issues else ""
    language = str(_meta(newsletters_dir, newest).get("language") or "sv") if newest else "sv"
    return FunderReport(issues=issues, months=months, language=language)


def report_for(settings: Settings, issue: str | None = None, *, now: str = "") -> FunderReport:
    """`newsletter report [ISSUE]`: the report from the settings' database (never created
    here) and the project's newsletters/ folder (or the folder of the ISSUE given as a path)."""
    if not Path(settings.db_path).is_file():
        raise ReportError(
            f"{settings.db_path}: no database, so nothing has been sent yet (set NEWSLETTER_DB "
            "or --db if the list lives elsewhere)"
        )
    newsletters = settings.project_root / "newsletters"
    if issue is not None and Path(issue).is_dir():
        newsletters = Path(issue).resolve().parent
    elif issue is not None and (newsletters / issue).is_dir():
        issue = str(newsletters / issue)
    db = open_db(settings.db_path)
    try:
        return funder_report(db, newsletters, issue, now=now)
    finally:
        db.close()
