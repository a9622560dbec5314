"""What an SMTP worker reads and writes: the last check before a message's final "." and
its 250, committed before the worker's next message can be complete.

Each worker has its own connection. Committing every 250 on its own (not in groups), while
the server answers the next MAIL FROM, is what bounds the duplicates of a `kill -9` to the
messages in flight, one per connection. These
commits run with `synchronous=NORMAL`: in WAL mode a commit is in the file once written, so
it survives the process being killed; it reaches the disk at the engine's next claim
transaction (`synchronous=FULL` syncs the whole WAL), so a power cut can lose the record of
the replies since then: a few messages, which go out again with the same Message-ID.
"""

from __future__ import annotations

import sqlite3
import threading

from ..errors import DatabaseError
from ..store.db import connect, utc_now
from . import ledger
from .worker import LEFT, LOST_LOCK, Job

# one query: does the run still hold its lock, and is the subscription still active?
_CHECK = (
    "SELECT (SELECT fence FROM send_locks WHERE issue = ? AND list_id = ?), "
    "(SELECT status FROM subscriptions WHERE subscriber_id = ? AND list_id = ?)"
)


class Recorder:
    """One worker's view of the ledger. `write_lock` is shared by every connection of the
    run, so they queue on a Python lock instead of sleeping in SQLite's busy handler."""

    def __init__(
        self, db_path: str, issue: str, list_id: int, fence: int, write_lock: threading.Lock
    ) -> None:
        self.db_path, self.issue, self.list_id, self.fence = db_path, issue, list_id, fence
        self.write_lock = write_lock
        self.db = None

    def _conn(self):
        if self.db is None:
            self.db = connect(self.db_path)
            self.db.execute("PRAGMA synchronous = NORMAL")
            # one statement, one transaction: no BEGIN/COMMIT round trips per message
            self.db.conn.isolation_level = None
        return self.db

    def check(self, job: Job) -> str | None:
        """None when the message may end; otherwise why not (see LOST_LOCK, LEFT)."""
        fence, status = (
            self._conn()
            .execute(_CHECK, [self.issue, self.list_id, job.subscriber_id, self.list_id])
            .fetchone()
        )
        if fence != self.fence:
            return LOST_LOCK
        if status != "active":
            return LEFT
        return None

    def sent(self, job: Job, reply: str) -> bool:
        """Commit the row as `sent`; False when that failed (busy beyond the limit, a full
        disk): the worker then withdraws its next message before the final "." and tries
        again, and hands the row to the engine when it stops. Never raises, since the message
        has gone out and must not be reported as failed."""
        db = self._conn()
        try:
            with self.write_lock:
                ledger.mark_sent(db, job.row_id, reply=reply, now=utc_now())
        except (DatabaseError, sqlite3.Error):
            return False
        return True

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
