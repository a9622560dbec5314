"""The welcome issue of a list: a built issue mailed to each person right after they confirm,
once, through the durable service-mail outbox.

The coordinator sets it with `newsletter subscribers lists NAME --welcome PATH` (stored in
`list_welcome`; a relative PATH is read from the folder `newsletter serve` runs in, like
`newsletters/`). The message is personalised like a normal issue (name, unsubscribe and
preferences links) when the confirmation is written, and queued in the same transaction, under
a key that lets it be queued only once per person and list.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlite_utils import Database

from ..audience import lists, tokens
from ..audience.lists import ListSettings
from ..audience.subscribers import clean_list_name, list_id
from ..compose.personalize import load_built
from ..config import Settings
from ..errors import IssueError, MailerError, SubscriberError
from ..store.db import transaction, utc_now
from . import service_mail
from .message import MessageFactory, RecipientValues, delivery_message_id


def set_welcome(db: Database, list_name: str, issue_dir: str | Path | None) -> str | None:
    """Set (or with None / "" remove) the welcome issue of an existing list; the issue must be
    built. Returns the path as stored."""
    list_name = clean_list_name(list_name)
    list_pk = list_id(db, list_name)
    if not issue_dir:
        with transaction(db):
            db.execute("DELETE FROM list_welcome WHERE list_id = ?", [list_pk])
        return None
    path = Path(issue_dir)
    _check_built(path)
    stored = str(path)
    with transaction(db):
        db.execute(
            "INSERT INTO list_welcome (list_id, issue_dir, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (list_id) DO UPDATE SET issue_dir = excluded.issue_dir, "
            "updated = excluded.updated",
            [list_pk, stored, utc_now()],
        )
    return stored


def configure_list(
    db: Database,
    name: str,
    *,
    title: str | None = None,
    public: bool | None = None,
    welcome: str | Path | None = None,
) -> ListSettings:
    """`audience.lists.configure_list` and the welcome issue (None: leave as is; "": remove)
    together: a welcome that is not built changes nothing, not even the title."""
    if welcome:
        _check_built(Path(welcome))
    with transaction(db):
        lists.configure_list(db, name, title=title, public=public)
        if welcome is not None:
            set_welcome(db, name, welcome)
    return next(entry for entry in lists.list_settings(db) if entry.name == clean_list_name(name))


def _check_built(path: Path) -> None:
    if not path.is_dir():
        raise SubscriberError(f"--welcome {path}: no such issue folder")
    load_built(path)  # IssueError naming the missing file and `newsletter build` when not built


def welcome_of(db: Database, list_pk: int) -> str | None:
    row = db.execute("SELECT issue_dir FROM list_welcome WHERE list_id = ?", [list_pk]).fetchone()
    return row[0] if row else None


class Welcomer:
    """Queues welcome issues; keeps each loaded issue until its build changes."""

    def __init__(self, settings: Settings, base_dir: Path | None = None) -> None:
        self.settings = settings
        self.base_dir = base_dir
        self._cache: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def queue(self, db: Database, subscriber_id: int, list_pk: int) -> int | None:
        """Queue the list's welcome for a person who just confirmed (inside the confirmation's
        transaction). No welcome set: nothing. An issue that cannot be read (its build was
        removed): a `failed` row naming the problem, so `subscribers stats` shows it."""
        issue_dir = welcome_of(db, list_pk)
        if issue_dir is None:
            return None
        person = db.execute(
            "SELECT email, name FROM subscribers WHERE id = ?", [subscriber_id]
        ).fetchone()
        if person is None:
            return None
        list_name, title = db.execute(
            "SELECT name, title FROM lists WHERE id = ?", [list_pk]
        ).fetchone()
        once = f"welcome:{list_pk}:{subscriber_id}"
        try:
            data = self._render(
                db, Path(issue_dir), subscriber_id, list_pk, person, list_name, title
            )
        except MailerError as exc:
            return service_mail.queue_mail(
                db,
                "welcome",
                person[0],
                b"",
                subscriber_id=subscriber_id,
                list_id=list_pk,
                once_key=once,
                state="failed",
                reply=f"not sent: {exc}",
            )
        return service_mail.queue_mail(
            db,
            "welcome",
            person[0],
            data,
            subscriber_id=subscriber_id,
            list_id=list_pk,
            once_key=once,
        )

    def _render(self, db, issue_dir, subscriber_id, list_pk, person, list_name, title) -> bytes:
        self.settings.require_sender()  # never from the placeholder address: nobody answers it
        if self.base_dir is not None and not issue_dir.is_absolute():
            issue_dir = self.base_dir / issue_dir
        factory = MessageFactory(
            self._built(issue_dir), self.settings, list_name=list_name, list_title=title
        )
        base = self.settings.base_url.rstrip("/")
        unsubscribe = tokens.issue_token(db, "unsubscribe", subscriber_id, list_pk)
        preferences = tokens.issue_token(db, "preferences", subscriber_id, list_pk)
        values = RecipientValues(
            email=person[0],
            name=person[1] or "",
            unsubscribe_url=f"{base}/unsubscribe/{unsubscribe}",
            preferences_url=f"{base}/preferences/{preferences}",
        )
        slug = f"welcome-{issue_dir.name}"
        message_id = delivery_message_id(
            self.settings.require_secret_key(), slug, subscriber_id, factory.domain
        )
        return factory.render(values, message_id=message_id)

    def _built(self, issue_dir: Path):
        meta = issue_dir / "build" / "meta.json"
        try:
            stamp = meta.stat().st_mtime
        except OSError:
            raise IssueError(
                f"{meta}: not built; run 'newsletter build {issue_dir}' first"
            ) from None
        key = str(issue_dir.resolve())
        with self._lock:
            cached = self._cache.get(key)
            if cached is None or cached[0] != stamp:
                cached = (stamp, load_built(issue_dir))
                self._cache[key] = cached
            return cached[1]
