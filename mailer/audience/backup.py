"""`newsletter backup` and `newsletter restore`: copies that never bring an erased person back.

A backup is one SQLite file made with SQLite's online backup API (a consistent snapshot while
`serve` and `send` write), mode 0600, holding the database, the number of the last erasure
journal entry it contains (`erasure_journal_state`) and a copy of the journal itself
(`backup_journal`). A restore copies it back into the live database with the same API, then
re-applies every journal entry after that number: people erased since are erased again (and
stay on the suppression list even if the backup never knew them), subscriptions withdrawn
since are withdrawn again. Without the journal it refuses unless told `--without-journal`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
from sqlite_utils import Database

from ..config import Settings
from ..errors import DatabaseError
from ..store.db import check_version, connect, open_db, transaction, utc_now
from . import consent, journal, keys, subscribers

BACKUP_TABLES = ("backup_info", "backup_journal")


@dataclass
class RestoreReport:
    taken_at: str
    journal_entries: int = 0  # entries after the backup, re-applied
    erased: int = 0  # people in the backup erased again
    withdrawn: int = 0  # subscriptions withdrawn again
    suppressed: int = 0  # suppression rows the backup lacked
    notes: list[str] = field(default_factory=list)


def default_backup_path(settings: Settings, now: dt.datetime | None = None) -> Path:
    """backups/<database name>-YYYYMMDDTHHMMSSZ.db beside the database."""
    now = now or dt.datetime.now(dt.UTC)
    db_path = Path(settings.db_path)
    return db_path.parent / "backups" / f"{db_path.stem}-{now:%Y%m%dT%H%M%SZ}.db"


def backup(settings: Settings, dest: Path | None = None) -> tuple[Path, dict]:
    """Copy the live database (and its erasure journal) to `dest`, mode 0600; returns the
    path and what it holds. Safe while other processes read and write."""
    if not Path(settings.db_path).is_file():
        raise DatabaseError(f"{settings.db_path}: no database to back up; check NEWSLETTER_DB")
    dest = Path(dest) if dest else default_backup_path(settings)
    if dest.exists():
        raise DatabaseError(f"{dest}: already exists; choose another name or move it away")
    if not dest.parent.exists():
        dest.parent.mkdir(mode=0o700, parents=True)
    partial = dest.with_name(dest.name + ".partial")
    source = open_db(settings.db_path)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        target = sqlite3.connect(partial)
        try:
            source.conn.backup(target)  # one step: one consistent snapshot
            info = _stamp(target, settings)
            target.commit()
            mode = target.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            if mode != "delete":  # one file, no -wal beside it
                raise sqlite3.OperationalError(f"journal mode stays {mode}")
        finally:
            target.close()
        os.chmod(partial, 0o600)
        os.replace(partial, dest)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"{dest}: cannot write the backup ({exc}); nothing was kept") from None
    finally:
        source.close()
    return dest, info


def _stamp(target: sqlite3.Connection, settings: Settings) -> dict:
    """Record in the copy when it was taken and which journal entries it holds; copy the
    journal as it is now (entries up to the snapshot, maybe a few later ones)."""
    (last,) = target.execute("SELECT last_seq FROM erasure_journal_state WHERE id = 1").fetchone()
    path = journal.path_for(settings.db_path)
    lines = journal.read(path) if path.exists() else []
    info = {
        "taken_at": utc_now(),
        "journal_last_seq": str(last),
        "journal_entries": str(len(lines)),
    }
    target.execute("CREATE TABLE backup_info (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    target.executemany("INSERT INTO backup_info VALUES (?, ?)", list(info.items()))
    target.execute("CREATE TABLE backup_journal (seq INTEGER NOT NULL, line TEXT NOT NULL)")
    target.executemany(
        "INSERT INTO backup_journal VALUES (?, ?)",
        [(e["seq"], json.dumps(e, sort_keys=True)) for e in lines],
    )
    return info


def _read_backup(path: Path) -> tuple[dict, list[dict]]:
    """What a backup says about itself. A plain copy of a database of this version (e.g. one
    `litestream restore` wrote) has no backup_info but knows its journal position."""
    if not path.is_file():
        raise DatabaseError(f"{path}: no such backup file")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            check_version(sqlite_utils.Database(con), path)  # not from a newer version
            if "backup_info" in names:
                info = dict(con.execute("SELECT name, value FROM backup_info").fetchall())
                lines = [json.loads(r[0]) for r in con.execute("SELECT line FROM backup_journal")]
                return info, lines
            (seq,) = con.execute("SELECT last_seq FROM erasure_journal_state").fetchone()
            return {"taken_at": "(a copy without its date)", "journal_last_seq": str(seq)}, []
        finally:
            con.close()
    except (sqlite3.Error, TypeError):
        raise DatabaseError(
            f"{path}: not a backup made by `newsletter backup` (nor a copy of a database of "
            "this version); make backups with that command, which records where the erasure "
            "journal stands"
        ) from None


def restore(settings: Settings, path: Path, *, without_journal: bool = False) -> RestoreReport:
    """Replace the live database with the backup at `path`, then re-apply the erasures and
    withdrawals the journal holds after it."""
    path = Path(path)
    info, copied = _read_backup(path)
    _refuse_during_a_send(settings)
    since = int(info["journal_last_seq"])
    report = RestoreReport(info["taken_at"])
    live_journal = journal.path_for(settings.db_path)
    if live_journal.exists():
        entries = [e for e in journal.read(live_journal) if e["seq"] > since]
    elif _live_position(settings) <= since:  # the live database journaled nothing since
        entries = []
    elif without_journal:
        entries = []
        report.notes.append(
            f"no journal: erasures and unsubscriptions made after {info['taken_at']} were NOT "
            "re-applied; repeat any you know of"
        )
    else:
        raise DatabaseError(
            f"{live_journal}: the erasure journal is missing, so the erasures and unsubscriptions "
            f"made after this backup ({info['taken_at']}) cannot be re-applied and those people "
            "would come back; nothing was changed. Put the journal back beside the database, or "
            "pass --without-journal if it is truly lost (then repeat the erasures you know of)"
        )
    wanted = {e["key"] for e in entries if e.get("action") == "erase" and e.get("key")}
    missing = keys.missing_fingerprints(None, settings, wanted) if wanted else []
    if missing:
        raise keys.SecretKeyMissing(keys.missing_key_message(missing, "the erasure journal"))
    _copy_in(path, settings)
    db = open_db(settings.db_path)
    try:
        if not live_journal.exists():  # carry the backup's copy on, so the history continues
            _write_journal(live_journal, copied)
        top = max([since, *(e["seq"] for e in journal.read(live_journal))])
        with transaction(db):
            db.execute("UPDATE erasure_journal_state SET last_seq = ? WHERE id = 1", [top])
        report.journal_entries = len(entries)
        people: dict[str, dict[str, int]] = {}  # key fingerprint -> address hash -> id
        for entry in entries:
            _reapply(db, settings, entry, report, people)
        try:
            consent.scrub_files(db, [])
        except DatabaseError as exc:  # everything is re-applied; old page copies wait
            report.notes.append(str(exc))
    finally:
        db.close()
    return report


LIVE_HEARTBEAT_SECONDS = 60  # a send writes its heartbeat every few seconds


def _live_position(settings: Settings) -> int:
    """The journal position of the live database (what it has journaled), or a huge number
    when there is no live database to ask (then a missing journal may hide anything)."""
    if not Path(settings.db_path).exists():
        return 2**62
    db = connect(settings.db_path)
    try:
        if not db["erasure_journal_state"].exists():
            return 2**62
        return journal.last_seq(db)
    finally:
        db.close()


def _refuse_during_a_send(settings: Settings) -> None:
    """A send running through a restore would go on from the state it read (the delivery
    wing's lock table, read here as plain rows)."""
    if not Path(settings.db_path).exists():
        return
    db = connect(settings.db_path)
    try:
        if not db["send_locks"].exists():
            return
        row = db.execute(
            "SELECT issue, heartbeat FROM send_locks WHERE pid IS NOT NULL AND heartbeat > ? "
            "ORDER BY heartbeat DESC LIMIT 1",
            [time.time() - LIVE_HEARTBEAT_SECONDS],
        ).fetchone()
    finally:
        db.close()
    if row is not None:
        raise DatabaseError(
            f"{settings.db_path}: a send of {row[0]} is running (heartbeat "
            f"{time.time() - row[1]:.0f} s ago); nothing was changed. Let it finish or stop it, "
            "stop `serve` too, then restore"
        )


def _copy_in(path: Path, settings: Settings) -> None:
    """The backup's pages into the live file through SQLite (other connections see the new
    content at their next transaction), then the backup's own bookkeeping tables dropped."""
    live = connect(settings.db_path)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        source.backup(live.conn)
        for table in BACKUP_TABLES:
            live.execute(f"DROP TABLE IF EXISTS {table}")
        if live["send_locks"].exists():  # runs of the backup's time are gone: release them
            live.execute("UPDATE send_locks SET pid = NULL, host = NULL, proc_start = NULL")
        live.conn.commit()
        if live.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            live.enable_wal()
    except sqlite3.Error as exc:
        raise DatabaseError(f"{settings.db_path}: the restore could not write ({exc})") from None
    finally:
        source.close()
        live.close()


def _write_journal(path: Path, entries: list[dict]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _reapply(
    db: Database, settings: Settings, entry: dict, report: RestoreReport, people: dict
) -> None:
    """Re-apply one journal entry. `people` caches, per key, every restored person's address
    hash (one pass over the subscribers per key, not one per erasure)."""
    if entry.get("action") == "erase":
        if entry["key"] not in people:
            key = keys.known_keys(settings)[entry["key"]]
            rows = db.execute("SELECT id, email FROM subscribers").fetchall()
            people[entry["key"]] = {consent.address_hmac(settings, e, key): i for i, e in rows}
        found = people[entry["key"]].pop(entry["hmac"], None)
        ids = [] if found is None else [found]
        for sid in ids:
            try:
                consent.erase_subscriber(db, settings, sid, channel="restore")
            except DatabaseError:
                gone = db.execute("SELECT 1 FROM subscribers WHERE id = ?", [sid]).fetchone()
                if gone is not None:
                    raise
                # erased and committed; only the scrub of old page copies had to wait (a
                # reader such as Litestream): the final scrub below says so once
            report.erased += 1
        with transaction(db):
            added = db.execute(
                "INSERT OR IGNORE INTO suppressions (address_hmac, reason, created, "
                "key_fingerprint) VALUES (?, 'erased', ?, ?)",
                [entry["hmac"], entry["at"], entry["key"]],
            ).rowcount
        report.suppressed += added if not ids else 0
    elif entry.get("action") == "withdraw":
        report.withdrawn += subscribers.reapply_withdrawal(
            db, entry["subscriber"], entry["created"], entry["list"], entry["status"]
        )
