"""Lists as the coordinator sets them up: a title for pages and List-Id, whether strangers may
sign up to it on the public page (an internal list, such as a test list, must not be), and the
welcome issue new people get (set by `delivery.welcome`, shown here)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from ..store.db import transaction
from .migrations import STATUSES
from .subscribers import clean_list_name, clean_list_title, ensure_list


@dataclass(frozen=True)
class ListSettings:
    name: str
    title: str | None
    public: bool
    counts: dict[str, int]  # subscriptions per status
    welcome: str | None = None  # the issue folder mailed after each confirmation

    def describe(self) -> str:
        shown = f"{self.name}  {self.title!r}" if self.title else self.name
        visibility = "public: offered on /subscribe" if self.public else "private: not offered"
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        welcome = f"; welcome: {self.welcome}" if self.welcome else ""
        return f"{shown}  ({visibility}; {counts or 'nobody yet'}{welcome})"


def configure_list(
    db: Database, name: str, *, title: str | None = None, public: bool | None = None
) -> ListSettings:
    """Create list `name` if needed and set its title and visibility (None = leave as is)."""
    name = clean_list_name(name)
    if title is not None:
        title = clean_list_title(name, title)
    with transaction(db):
        list_pk = ensure_list(db, name)
        if title is not None:
            db.execute("UPDATE lists SET title = ? WHERE id = ?", [title or None, list_pk])
        if public is not None:
            db.execute("UPDATE lists SET public = ? WHERE id = ?", [int(public), list_pk])
    return next(s for s in list_settings(db) if s.name == name)


def list_settings(db: Database) -> list[ListSettings]:
    """Every list with its title, visibility, subscriptions per status and welcome issue."""
    counts: dict[int, dict[str, int]] = {}
    for list_pk, status, number in db.execute(
        "SELECT list_id, status, count(*) FROM subscriptions GROUP BY list_id, status"
    ):
        counts.setdefault(list_pk, dict.fromkeys(STATUSES, 0))[status] = number
    welcomes: dict[int, str] = {}
    if db["list_welcome"].exists():  # the delivery wing's table, read as plain rows
        welcomes = dict(db.execute("SELECT list_id, issue_dir FROM list_welcome").fetchall())
    return [
        ListSettings(
            name,
            title,
            bool(public),
            counts.get(list_pk, dict.fromkeys(STATUSES, 0)),
            welcomes.get(list_pk),
        )
        for list_pk, name, title, public in db.execute(
            "SELECT id, name, title, public FROM lists ORDER BY name"
        )
    ]
