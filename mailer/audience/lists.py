"""Lists as the coordinator sets them up: a title for pages and List-Id, and whether strangers
may sign up to it on the public page (an internal list, such as a test list, must not be)."""

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

    def describe(self) -> str:
        shown = f"{self.name}  {self.title!r}" if self.title else self.name
        visibility = "public: offered on /subscribe" if self.public else "private: not offered"
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        return f"{shown}  ({visibility}; {counts or 'nobody yet'})"


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
    """Every list with its title, visibility and subscriptions per status, by name."""
    counts: dict[int, dict[str, int]] = {}
    for list_pk, status, number in db.execute(
        "SELECT list_id, status, count(*) FROM subscriptions GROUP BY list_id, status"
    ):
        counts.setdefault(list_pk, dict.fromkeys(STATUSES, 0))[status] = number
    return [
        ListSettings(name, title, bool(public), counts.get(list_pk, dict.fromkeys(STATUSES, 0)))
        for list_pk, name, title, public in db.execute(
            "SELECT id, name, title, public FROM lists ORDER BY name"
        )
    ]
