"""One database connection per request, and the schema brought up to date once per app."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator

import sqlite_utils
from flask import Flask, current_app, g

from ..errors import DatabaseError
from ..store.db import BUSY_TIMEOUT_SECONDS, connect, open_db

POLL_SECONDS = (0.0005, 0.001, 0.002)  # then every 2 ms until BUSY_TIMEOUT_SECONDS


def get_db() -> sqlite_utils.Database:
    """This request's connection (WAL, busy timeout), opened on first use."""
    if "db" not in g:
        _ensure_migrated(current_app)
        g.db = connect(current_app.config["SETTINGS"].db_path)
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
    with writing():
        db.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
            attempt = 0
            while True:
                try:
                    db.conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    if time.monotonic() > deadline:
                        raise DatabaseError(
                            f"database busy for {BUSY_TIMEOUT_SECONDS:.0f} s"
                        ) from None
                    time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
                    attempt += 1
            try:
                yield db
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            db.conn.execute("COMMIT")
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


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
            open_db(app.config["SETTINGS"].db_path).close()
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
