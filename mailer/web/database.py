"""One database connection per request, and the schema brought up to date once per app."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator

import sqlite_utils
from flask import Flask, current_app, g

from ..errors import DatabaseUnavailable
from ..store.db import connect, database_file, open_db, storage_fault

POLL_SECONDS = (0.0005, 0.001, 0.002)  # then every 2 ms until the wait limit
# A request waits at most this long for another process's write lock, then answers 503 with
# Retry-After: well inside the 30 s the shipped nginx waits for an answer (a 504 after an
# accepted sign-up would tell the person it failed). NEWSLETTER_DB_BUSY_TIMEOUT can only shorten it.
WEB_WAIT_LIMIT = 15.0


def wait_limit(app: Flask) -> float:
    """Seconds a request waits for the database's write lock."""
    return min(app.config["SETTINGS"].db_busy_timeout, WEB_WAIT_LIMIT)


def get_db() -> sqlite_utils.Database:
    """This request's connection (WAL, busy timeout), opened on first use."""
    if "db" not in g:
        _ensure_migrated(current_app)
        g.db = connect(current_app.config["SETTINGS"].db_path, busy_timeout=wait_limit(current_app))
    return g.db


def writing():
    """Hold this process's write lock around a database write.

    SQLite lets one writer in at a time; a writer that finds the lock taken sleeps in growing
    steps (1, 2, 5 ... 100 ms) before retrying, which made the slowest 1 % of concurrent
    unsubscribes wait hundreds of milliseconds. Queuing the app's own threads on a Python lock
    hands the database over at once; other processes (a running send) still meet SQLite's
    busy timeout.
    """
    return current_app.extensions["db_state"]["write_lock"]


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """`BEGIN IMMEDIATE` ... `COMMIT` for a short write, taking the lock as soon as it frees.

    Inside it the library's own `transaction()` blocks become savepoints. Between processes
    (the web app and a running send) SQLite's busy handler would sleep up to 100 ms per retry;
    polling every few hundred microseconds keeps an unsubscribe's worst case short.
    """
    limit = wait_limit(current_app)
    with writing():
        db.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + limit
            attempt = 0
            while True:
                try:
                    db.conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    if time.monotonic() > deadline:
                        raise DatabaseUnavailable(
                            f"{database_file(db)}: still locked by another process after "
                            f"{limit:g} s; nothing was written"
                        ) from None
                    time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
                    attempt += 1
            try:
                yield db
                db.conn.execute("COMMIT")
            except BaseException as exc:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                fault = storage_fault(exc, database_file(db))
                if fault is not None:  # a full disk: a 503, nothing half-stored
                    raise fault from None
                raise
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(limit * 1000)}")


def migrate(app: Flask) -> None:
    """Bring the schema up to date now (`serve` does, before its outbox thread starts)."""
    _ensure_migrated(app)


def _ensure_migrated(app: Flask) -> None:
    """Apply migrations the first time a request needs the database (not at import)."""
    state = app.extensions["db_state"]
    if state["migrated"]:
        return
    with state["lock"]:
        if not state["migrated"]:
            open_db(app.config["SETTINGS"].db_path, busy_timeout=wait_limit(app)).close()
            state["migrated"] = True


def _close_db(_exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.extensions["db_state"] = {
        "migrated": False,
        "lock": threading.Lock(),
        "write_lock": threading.Lock(),
    }
    app.teardown_appcontext(_close_db)
