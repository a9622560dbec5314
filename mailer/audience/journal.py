"""The erasure journal: every erasure and withdrawal, kept in a file beside the database.

A backup is a copy of the database at one moment; restoring it would bring back everyone
erased, and re-subscribe everyone who left, since then. So each erasure and each move of a
subscription to unsubscribed, complained or bounced is also appended to `<database>.erasures`
(one JSON line, synced to disk before the transaction commits) and numbered: the database
keeps the last number in `erasure_journal_state`, so a backup knows where it stands, and a
restore re-applies every entry after that (mailer.audience.backup).

An entry holds no address: an erasure keeps the keyed hash that the suppression list keeps
(and its key's fingerprint); a withdrawal names the subscriber row (id and creation time, which
mean something only next to a copy of the database) and the list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlite_utils import Database

from ..config import Settings
from ..errors import DatabaseError
from ..store.db import database_file, utc_now

SUFFIX = ".erasures"  # not "-journal": SQLite's own rollback journal is <database>-journal


def path_for(database: str | os.PathLike) -> Path:
    return Path(str(database) + SUFFIX)


def journal_path(db: Database) -> Path | None:
    """The journal beside this connection's database file (None for an in-memory database)."""
    name = database_file(db)
    return None if name == ":memory:" else path_for(name)


def last_seq(db: Database) -> int:
    row = db.execute("SELECT last_seq FROM erasure_journal_state WHERE id = 1").fetchone()
    return row[0] if row else 0


def append(db: Database, entry: dict, settings: Settings | None = None) -> None:
    """Journal one entry; call inside the transaction that makes the change (it holds the
    write lock, so numbers are unique and in commit order). Written and synced first: an
    entry whose transaction then fails only makes a restore re-apply a request once more."""
    from .keys import fingerprint

    path = journal_path(db)
    if path is None:
        return
    seq = last_seq(db) + 1
    line = {"seq": seq, "at": utc_now(), **entry}
    if "hmac" in entry and settings is not None:
        line["key"] = fingerprint(settings.secret_key)
    data = (json.dumps(line, sort_keys=True) + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise DatabaseError(
            f"{path}: cannot write the erasure journal ({exc.strerror}); nothing was changed. "
            "Make the folder of the database writable and try again"
        ) from None
    db.execute("UPDATE erasure_journal_state SET last_seq = ? WHERE id = 1", [seq])


def read(path: Path) -> list[dict]:
    """The journal's entries in order. A line cut short by a crash (its transaction never
    committed) is skipped; anything else unreadable is an error naming the line."""
    entries = []
    lines = path.read_bytes().split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
            if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
                raise ValueError("not a journal entry")
        except ValueError:
            if number == len(lines) or (number == len(lines) - 1 and not lines[-1]):
                continue  # the torn last line of a crash
            raise DatabaseError(
                f"{path}, line {number}: not an erasure journal entry; the journal is damaged. "
                "Restore it from the copy inside your latest backup, or pass --without-journal"
            ) from None
        entries.append(entry)
    return entries
