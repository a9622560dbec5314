"""Logging a failed request without the secrets and personal data it may carry.

Flask logs `Exception on /unsubscribe/<the token> [POST]` with the full traceback, and the
exception's message can hold an address or a name (SQLite and our own errors quote values).
A token in a log file lets whoever reads the log unsubscribe, read or erase that person; so
the log names the route pattern and the exception type, with the traceback's frames (which
show code, not data) but not the message.
"""

from __future__ import annotations

import traceback
from types import TracebackType

from flask import Flask, request


def log_exception(
    app: Flask,
    exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
) -> None:
    """The replacement for `Flask.log_exception`: route pattern, method, type, frames."""
    exc_type, _exc, tb = exc_info
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    name = exc_type.__name__ if exc_type is not None else "unknown error"
    frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
    app.logger.error(
        "Exception on %s [%s]: %s (message withheld: it may hold personal data)\n%s",
        rule,
        request.method,
        name,
        frames.rstrip(),
    )


def init_app(app: Flask) -> None:
    app.log_exception = lambda exc_info: log_exception(app, exc_info)  # type: ignore[method-assign]
