"""Reads the pages need: a token's subscriber and list, list titles, a person's subscriptions."""

from __future__ import annotations

from typing import NamedTuple

import sqlite_utils
from flask import abort, current_app, g

from ..audience.tokens import lookup_token
from ..locale import LANGUAGES
from .context import list_title, site_profile


class ListInfo(NamedTuple):
    id: int
    name: str
    stored_title: str  # the title stored with the list, or its name when it has none

    @property
    def title(self) -> str:
        """The name a person reads, in the page's language (newsletter.yml's `lists:`)."""
        return list_title(self.name, self.stored_title)

    @property
    def description(self) -> str:
        return site_profile().list_description(self.name, g.get("lang") or LANGUAGES[0])

    def offered_in(self, lang: str) -> bool:
        """Whether a page in `lang` offers this list (its language, or all languages)."""
        return site_profile().offered_in(self.name, lang)


class TokenOwner(NamedTuple):
    token: dict  # the tokens row (subscriber_id, list_id, ...)
    subscriber: dict  # id, email, name, language
    statuses: dict[str, str]  # list name -> subscription status
    list: ListInfo | None  # the list the token is for (None = all lists)


def all_lists(db: sqlite_utils.Database) -> list[ListInfo]:
    rows = db.execute("SELECT id, name, coalesce(title, name) FROM lists ORDER BY id").fetchall()
    return [ListInfo(*row) for row in rows]


def public_lists(db: sqlite_utils.Database) -> list[ListInfo]:
    """The lists strangers may sign up to (`newsletter subscribers lists NAME --private` hides
    an internal one, such as a test list)."""
    rows = db.execute(
        "SELECT id, name, coalesce(title, name) FROM lists WHERE public = 1 ORDER BY id"
    ).fetchall()
    return [ListInfo(*row) for row in rows]


def lists_for(db: sqlite_utils.Database, subscriber_id: int) -> list[ListInfo]:
    """The lists a person's preferences page shows: any they are on, and the public ones
    offered in the page's language (a Swedish reader is not offered the Danish lists)."""
    lang = g.get("lang") or LANGUAGES[0]
    rows = db.execute(
        "SELECT id, name, coalesce(title, name), id IN (SELECT list_id FROM subscriptions "
        "WHERE subscriber_id = ?) FROM lists WHERE public = 1 OR id IN "
        "(SELECT list_id FROM subscriptions WHERE subscriber_id = ?) ORDER BY id",
        [subscriber_id, subscriber_id],
    ).fetchall()
    infos = [(ListInfo(*row[:3]), row[3]) for row in rows]
    return [info for info, on_it in infos if on_it or info.offered_in(lang)]


def list_by_id(db: sqlite_utils.Database, list_id: int | None) -> ListInfo | None:
    if list_id is None:
        return None
    row = db.execute(
        "SELECT id, name, coalesce(title, name) FROM lists WHERE id = ?", [list_id]
    ).fetchone()
    return ListInfo(*row) if row else None


def list_by_name(db: sqlite_utils.Database, name: str) -> ListInfo | None:
    row = db.execute(
        "SELECT id, name, coalesce(title, name) FROM lists WHERE name = ?", [name]
    ).fetchone()
    return ListInfo(*row) if row else None


def subscriber_by_id(db: sqlite_utils.Database, subscriber_id: int) -> dict | None:
    row = db.execute(
        "SELECT id, email, name, language FROM subscribers WHERE id = ?", [subscriber_id]
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "email", "name", "language"), row, strict=True))


def statuses(db: sqlite_utils.Database, subscriber_id: int) -> dict[str, str]:
    return dict(
        db.execute(
            "SELECT lists.name, sub.status FROM subscriptions sub "
            "JOIN lists ON lists.id = sub.list_id WHERE sub.subscriber_id = ? ORDER BY lists.id",
            [subscriber_id],
        ).fetchall()
    )


def token_owner_or_404(db: sqlite_utils.Database, purpose: str, token: str) -> TokenOwner:
    """Who a valid token belongs to; any unknown, tampered, used or expired token is a 404.
    Newsletters carry signed unsubscribe and preferences tokens (keyed with the secret key, or
    an old one in NEWSLETTER_SECRET_KEY_PREVIOUS); stored ones from earlier versions still work."""
    row = lookup_token(db, purpose, token, current_app.config["SETTINGS"].verification_keys)
    subscriber = subscriber_by_id(db, row["subscriber_id"]) if row else None
    if row is None or subscriber is None:
        abort(404)
    return TokenOwner(
        row, subscriber, statuses(db, subscriber["id"]), list_by_id(db, row["list_id"])
    )


def mask_email(email: str) -> str:
    """'a•••@example.se': enough to recognise one's address, little to a forwarded link's reader."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"
