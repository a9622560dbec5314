"""One database connection per request, and the schema brought up to date once per app."""

from __future__ import annotations

import threading

import sqlite_utils
from flask import Flask, current_app, g

from ..db import connect, open_db


def get_db() -> sqlite_utils.Database:
    """This request's connection (WAL, busy timeout), opened on first use."""
    if "db" not in g:
        _ensure_migrated(current_app)
        g.db = connect(current_app.config["SETTINGS"].db_path)
    return g.db


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
    app.extensions["db_state"] = {"migrated": False, "lock": threading.Lock()}
    app.teardown_appcontext(_close_db)
