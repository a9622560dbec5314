"""Opening the subscriber database: pragmas for several processes at once, migrations, transactions.

The sender, the web endpoint and the CLI all write the same SQLite file, so every connection
uses WAL, a busy timeout and `synchronous=FULL`, and read-then-write work runs in
`BEGIN IMMEDIATE` (a deferred transaction that upgrades to a write fails at once with
"database is locked" whatever the busy timeout).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..errors import DatabaseError

BUSY_TIMEOUT_SECONDS = 30.0

# The wings' migration modules, by name and in the order they apply (like Django's
# INSTALLED_APPS): the store knows where the schema is declared, never the wings' code. Each of
# these modules imports only sqlite-utils.
SCHEMA_MODULES = (
    "mailer.audience.migrations",
    "mailer.delivery.migrations",
    "mailer.remote.migrations",
)


def utc_now(seconds_from_now: float = 0.0) -> str:
    """The current UTC time (moved by `seconds_from_now`) as ISO 8601 text, the one time format
    in the database: expiry times and cut-offs compare with it as text."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def migration_sets() -> list[Migrations]:
    """Every migration set, in the order they apply; each wing owns the set for its tables."""
    return [importlib.import_module(name).MIGRATIONS for name in SCHEMA_MODULES]


def connect(path: str | Path) -> sqlite_utils.Database:
    """A connection with the pragmas every process needs, without touching the schema."""
    path = Path(path)
    if str(path) != ":memory:" and not path.parent.exists():
        raise DatabaseError(
            f"{path}: the folder {path.parent} does not exist; create it or set NEWSLETTER_DB"
        )
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA secure_delete = ON")
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path}: cannot open as an SQLite database ({exc})") from None
    return db


def check_version(db: sqlite_utils.Database, path: str | Path = "database") -> None:
    """Refuse a database that a newer version of this tool has migrated."""
    table = db[Migrations.migrations_table]
    if not table.exists():
        return
    known = {(s.name, m.name) for s in migration_sets() for m in s._migrations}
    names = {s.name for s in migration_sets()}
    unknown = [
        f"{row['migration_set']}/{row['name']}"
        for row in table.rows
        if row["migration_set"] in names and (row["migration_set"], row["name"]) not in known
    ]
    if unknown:
        raise DatabaseError(
            f"{path} was upgraded by a newer version of newsletter (migrations "
            f"{', '.join(unknown)}); upgrade this installation before using it"
        )


def open_db(path: str | Path, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path` and bring its schema up to date."""
    db = connect(path)
    check_version(db, path)
    if migrate:
        apply_migrations(db)
    return db


def apply_migrations(db: sqlite_utils.Database, stop_before: str | None = None) -> None:
    """Apply pending migrations of every set inside one IMMEDIATE transaction.

    Holding the write lock means two processes starting at once cannot both apply the same
    migration; sqlite-utils' own per-migration `atomic()` blocks become savepoints inside it.
    """
    pending = [s for s in migration_sets() if s.pending(db)]
    if not pending:
        return
    with transaction(db):
        for migration_set in pending:
            if stop_before and stop_before in {m.name for m in migration_set._migrations}:
                migration_set.apply(db, stop_before=stop_before)
            else:
                migration_set.apply(db)
    # a migration may scrub personal data (m004); older page images stay in the WAL until a
    # checkpoint, so take one now (best effort: another process reading keeps the WAL alive)
    with contextlib.suppress(sqlite3.OperationalError):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any exception.

    Nested use is allowed: an inner block becomes a savepoint. sqlite-utils' table methods
    (`insert`, `upsert`, `update`, ...) use `atomic()`, which also nests as a savepoint here.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    _locked_is_database_error(db, "BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        _locked_is_database_error(db, "COMMIT")


def database_file(db: sqlite_utils.Database) -> str:
    """The file behind a connection, for messages (`:memory:` when there is none)."""
    for _seq, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or ":memory:"
    return "database"


def _locked_is_database_error(db: sqlite_utils.Database, statement: str) -> None:
    """Run `statement`; a lock still held after the busy timeout becomes a DatabaseError.

    The raw "database is locked" traceback tells a coordinator nothing; the message names the
    file and what to do. A failed COMMIT is rolled back so the connection stays usable.
    """
    try:
        db.conn.execute(statement)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        if statement == "COMMIT" and db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        waited = db.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
        raise DatabaseError(
            f"{database_file(db)}: still locked by another process after {waited:g} s; "
            "nothing was written. Wait for the other command "
            "(a send, an import) to finish and try again"
        ) from None
