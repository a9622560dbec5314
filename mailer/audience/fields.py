"""Custom fields of subscribers (`län`, `organisation`, `roll`): names, values, reading, writing.

A field is a short text per person and name, stored in `subscriber_fields` (migration m008).
Field names are lower-case words (letters of any alphabet, digits, `_` and `-`, starting with
a letter) so that they can be written as placeholders (`%%län|%%`, see
`mailer.compose.personalize.FIELD_NAME`, which must accept the same names) and in segments
(`län = Örebro`). Names the tool itself uses (name, email, language ...) cannot be fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from sqlite_utils import Database

from ..errors import SubscriberError

FIELD_NAME = re.compile(r"[^\W\d_][\w-]{0,39}")
RESERVED = frozenset(
    {
        "name",
        "email",
        "language",
        "lists",
        "list",
        "consent_date",
        "source",
        "unsubscribe_url",
        "preferences_url",
        "reason",  # the column --skip-invalid adds to a rejected file
        "and",
        "or",
        "in",
        "is",
        "not",
        "empty",
    }
)
MAX_VALUE = 500


def clean_field_name(name: str) -> str:
    """A field name in canonical form (NFC, lower case, spaces as `_`), or SubscriberError."""
    text = unicodedata.normalize("NFC", str(name or "").strip().lower())
    text = re.sub(r"\s+", "_", text)
    if not FIELD_NAME.fullmatch(text):
        raise SubscriberError(
            f"{name!r} cannot be a field name: use a word of letters, digits, '_' or '-' "
            "starting with a letter (at most 40 characters)"
        )
    if text in RESERVED:
        raise SubscriberError(f"{name!r} is a name the tool uses itself; choose another")
    return text


def clean_field_value(name: str, value: str | None) -> str:
    """A field value: NFC text without line breaks or control characters; '' means none."""
    text = unicodedata.normalize("NFC", str(value or "").strip())
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise SubscriberError(
                f"field {name!r}: the value has a line break or control character (U+{ord(ch):04X})"
            )
    if len(text) > MAX_VALUE:
        raise SubscriberError(f"field {name!r}: the value is longer than {MAX_VALUE} characters")
    return text


def fold(value: str | None) -> str | None:
    """How values compare in segments: NFC and case-folded, so `örebro` matches `Örebro`."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).casefold().strip()


def install_fold(db: Database) -> None:
    """Make `nl_fold(text)` available to SQL on this connection (segments compare with it)."""
    db.conn.create_function("nl_fold", 1, fold, deterministic=True)


def set_fields(db: Database, subscriber_id: int, values: Mapping[str, str]) -> None:
    """Set (or, with an empty value, remove) fields of one person; call inside a transaction."""
    for name, value in values.items():
        if value:
            db.execute(
                "INSERT INTO subscriber_fields (subscriber_id, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (subscriber_id, name) DO UPDATE SET value = excluded.value",
                [subscriber_id, name, value],
            )
        else:
            db.execute(
                "DELETE FROM subscriber_fields WHERE subscriber_id = ? AND name = ?",
                [subscriber_id, name],
            )


def add_missing_fields(db: Database, rows: Iterable[tuple[int, str, str]]) -> None:
    """(subscriber_id, name, value) rows an import brings: existing values are kept."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO subscriber_fields (subscriber_id, name, value) VALUES (?, ?, ?)",
        [row for row in rows if row[2]],
    )


def fields_of(db: Database, subscriber_id: int) -> dict[str, str]:
    """Every field of one person, by name."""
    return dict(
        db.execute(
            "SELECT name, value FROM subscriber_fields WHERE subscriber_id = ? ORDER BY name",
            [subscriber_id],
        ).fetchall()
    )


def field_names(db: Database) -> list[str]:
    """The field names in use, for messages and the record of processing."""
    return [
        name for (name,) in db.execute("SELECT DISTINCT name FROM subscriber_fields ORDER BY name")
    ]
