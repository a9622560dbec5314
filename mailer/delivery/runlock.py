"""One live send per issue and list: a lock row with a fencing number and its own heartbeat.

A run takes the lock of (issue, list) and gets a fencing number larger than any before it.
It checks that number in the same transaction as every claim, and its workers check it just
before each message's final ".", so a run whose lock was taken over stops before it mails
anybody else. The heartbeat is written by a thread of its own every few seconds, whatever
the engine is doing (waiting for a quota slot, a slow server), so pacing never makes a lock
look abandoned. A lock is taken over only when its owner is provably gone: on this host,
its process no longer exists (pid and start time); on another host, no heartbeat for
`stale_after` seconds (15 minutes by default, against a heartbeat every 5 s).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ..errors import DatabaseError, SendError
from ..store.db import connect, database_file, transaction, utc_now

LOCK_STALE_SECONDS = 900.0
HEARTBEAT_SECONDS = 5.0

log = logging.getLogger(__name__)


def process_start(pid: int) -> str:
    """A mark that differs between two processes that had the same pid: the boot id and the
    start time in clock ticks (Linux /proc); empty where /proc does not exist."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    return f"{boot}:{fields[19]}"  # field 22 of stat, counted after the ")"


def process_alive(pid: int, started: str) -> bool:
    """Whether the process that took a lock still runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or process_start(pid) in ("", started)


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    started: str

    @classmethod
    def this_process(cls) -> Owner:
        return cls(os.getpid(), socket.gethostname(), process_start(os.getpid()))


def acquire(
    db: sqlite_utils.Database,
    issue: str,
    list_id: int,
    list_name: str,
    *,
    owner: Owner,
    now: float,
    stale_after: float = LOCK_STALE_SECONDS,
    alive=process_alive,
) -> int:
    """Take the lock of (issue, list) and return its new fencing number, or refuse naming the
    process that holds it."""
    with transaction(db):
        row = db.execute(
            "SELECT pid, host, proc_start, started_at, heartbeat FROM send_locks "
            "WHERE issue = ? AND list_id = ? AND pid IS NOT NULL",
            [issue, list_id],
        ).fetchone()
        if row:
            pid, host, started, started_at, beat = row
            same_host = host == owner.host
            gone = not alive(pid, started or "") if same_host else now - beat > stale_after
            if not gone:
                raise SendError(
                    f"another send of {issue} to list {list_name} is running (pid {pid} on "
                    f"{host}, started {started_at[:19].replace('T', ' ')} UTC, last heartbeat "
                    f"{max(0, now - beat):.0f} s ago); wait for it to finish, or stop it "
                    f"(kill -INT {pid}) and run this command again"
                )
        fence = db.execute("SELECT coalesce(max(fence), 0) + 1 FROM send_locks").fetchone()[0]
        db.conn.execute(
            "INSERT INTO send_locks (issue, list_id, fence, pid, host, proc_start, started_at, "
            "heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issue, list_id) DO UPDATE "
            "SET fence = excluded.fence, pid = excluded.pid, host = excluded.host, "
            "proc_start = excluded.proc_start, started_at = excluded.started_at, "
            "heartbeat = excluded.heartbeat",
            [issue, list_id, fence, owner.pid, owner.host, owner.started, utc_now(), now],
        )
    return fence


def holds(db: sqlite_utils.Database, issue: str, list_id: int, fence: int) -> bool:
    """Whether the lock still carries `fence` (call inside the claim's transaction)."""
    row = db.execute(
        "SELECT fence FROM send_locks WHERE issue = ? AND list_id = ?", [issue, list_id]
    ).fetchone()
    return row is not None and row[0] == fence


def release(db: sqlite_utils.Database, issue: str, list_id: int, fence: int) -> None:
    """Free the lock if it is still ours; the row (and its fencing number) stays."""
    with transaction(db):
        db.conn.execute(
            "UPDATE send_locks SET pid = NULL, host = NULL, proc_start = NULL "
            "WHERE issue = ? AND list_id = ? AND fence = ?",
            [issue, list_id, fence],
        )


class Heartbeat:
    """A thread that writes the lock's heartbeat every `interval` seconds on its own
    connection; `lost` is set when the lock no longer carries our fencing number."""

    def __init__(self, db_path: str, issue: str, list_id: int, fence: int, interval: float) -> None:
        self.db_path, self.issue, self.list_id, self.fence = db_path, issue, list_id, fence
        self.interval = interval
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="send-heartbeat", daemon=True)

    @classmethod
    def for_db(cls, db, issue: str, list_id: int, fence: int, stale_after: float) -> Heartbeat:
        interval = min(HEARTBEAT_SECONDS, stale_after / 4)
        return cls(database_file(db), issue, list_id, fence, interval)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        db = connect(self.db_path)
        try:
            while not self._stop.wait(self.interval):
                try:
                    with transaction(db):
                        beat = db.conn.execute(
                            "UPDATE send_locks SET heartbeat = ? "
                            "WHERE issue = ? AND list_id = ? AND fence = ?",
                            [time.time(), self.issue, self.list_id, self.fence],
                        )
                        if beat.rowcount != 1:
                            self.lost.set()
                            return
                except DatabaseError as exc:  # busy for 30 s: try again at the next beat
                    log.warning("send heartbeat not written: %s", exc)
        finally:
            db.close()
