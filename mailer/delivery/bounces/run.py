"""`newsletter bounces fetch` and `bounces import`: read, classify, decide, summarise.

Each message is handled in its own transaction; for IMAP the folder's progress is recorded in
the same transaction, so a crash never records a report twice or skips one. A dry run reads
and decides the same way and writes nothing (not even IMAP progress).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from ...config import Settings
from ...errors import DatabaseUnavailable
from ...store.db import open_db, transaction
from .classify import classify
from .policy import apply_report
from .sources import ImapFolder, Incoming, count_files, last_uid, read_files, remember_uid

IGNORED = ("auto-reply", "ignored")


@dataclass
class BounceSummary:
    """What one run found; `line()` is the one-line summary."""

    dry_run: bool = False
    read: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unverified: int = 0  # matched by address only while VERP is on: recorded, nothing changed
    changed: int = 0  # subscriptions bounced or unsubscribed
    duplicates: int = 0
    ignored: int = 0  # auto-replies, delay warnings, success notices
    not_bounces: int = 0
    unreadable: int = 0
    unmatched: int = 0
    details: list[tuple[str, str, str]] = field(default_factory=list)  # (label, outcome, text)
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        would = "would record" if self.dry_run else "recorded"
        text = (
            f"{self.read} messages read: {would} {self.hard} hard bounces, {self.soft} soft "
            f"bounces, {self.complaints} complaints ({self.changed} subscriptions "
            f"{'would be ' if self.dry_run else ''}ended); {self.duplicates} already recorded, "
            f"{self.ignored} ignored (auto-replies, delay warnings), {self.not_bounces} not "
            f"bounces, {self.unreadable} unreadable, {self.unmatched} not matched to a message "
            f"we sent, {self.unverified} unverified (no token or Message-ID: nothing changed)"
        )
        return text + (" (dry run: nothing was written)." if self.dry_run else ".")

    def count(self, label: str, outcome: str, text: str, changed: bool = False) -> None:
        self.details.append((label, outcome, text))
        self.changed += changed
        attribute = {
            "hard": "hard",
            "soft": "soft",
            "complaint": "complaints",
            "unverified": "unverified",
            "duplicate": "duplicates",
            "unmatched": "unmatched",
            "auto-reply": "ignored",
            "ignored": "ignored",
            "not-bounce": "not_bounces",
            "unreadable": "unreadable",
        }[outcome]
        setattr(self, attribute, getattr(self, attribute) + 1)


def handle(
    db: Database, settings: Settings, item: Incoming, summary: BounceSummary, source: str
) -> None:
    """Classify one message and record what it says about each recipient it names (call
    inside a transaction)."""
    summary.read += 1
    report = classify(item.raw)
    if not report.actionable:
        summary.count(item.label, report.verdict, report.reason)
        return
    for decision in apply_report(db, settings, report, source=source, dry_run=summary.dry_run):
        summary.count(item.label, decision.outcome, decision.text, decision.changed)


def import_bounces(
    settings: Settings,
    paths: Iterable[Path],
    *,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> BounceSummary:
    """Read reports from .eml files, mbox files and Maildir folders."""
    settings.require_secret_key()
    paths = [Path(p) for p in paths]
    total = count_files(paths)  # also checks every path before anything is written
    summary = BounceSummary(dry_run=dry_run)
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        with _bar(progress, total) as bar:
            for item in read_files(paths):
                recorded = summary.read
                try:
                    with transaction(db):
                        handle(db, settings, item, summary, "file")
                except DatabaseUnavailable as exc:  # each report is whole or not there
                    raise DatabaseUnavailable(
                        f"{exc}; {recorded} of {total} reports were recorded before it, and the "
                        "same command recognises them and reads only the rest"
                    ) from None
                bar.update(1)
    finally:
        db.close()
    return summary


def fetch_bounces(
    settings: Settings,
    *,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
    ssl_context=None,
) -> BounceSummary:
    """Read the new messages of BOUNCE_IMAP_FOLDER (each once; nothing in it is changed)."""
    settings.require_secret_key()
    summary = BounceSummary(dry_run=dry_run)
    loopback = settings.bounce_imap_host in ("127.0.0.1", "::1", "localhost")
    if settings.bounce_imap_security == "none" and not loopback:
        summary.warnings.append(
            f"BOUNCE_IMAP_SECURITY=none: the IMAP password went to {settings.bounce_imap_host} "
            "unencrypted; use ssl or starttls"
        )
    db = open_db(settings.db_path, busy_timeout=settings.db_busy_timeout)
    try:
        with ImapFolder(settings, ssl_context=ssl_context) as folder:
            after = last_uid(db, folder.mailbox, folder.uidvalidity)
            uids = folder.new_uids(after)
            with _bar(progress, len(uids)) as bar:
                for item in folder.fetch(uids):
                    with transaction(db):
                        handle(db, settings, item, summary, "imap")
                        if not dry_run:
                            remember_uid(db, folder.mailbox, folder.uidvalidity, item.uid)
                    bar.update(1)
    finally:
        db.close()
    return summary


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def update(self, steps: int) -> None:
        pass


def _bar(progress, total: int):
    return progress(total) if progress is not None else _NoBar()
