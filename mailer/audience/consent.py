"""The append-only consent log, consent texts, the suppression list; access export, erasure, purge.

GDPR: consent must be demonstrable (Art. 7(1)), an access request is answered with one document
(Art. 15/20), erasure removes the person (Art. 17) and unconfirmed sign-ups are not kept longer
than needed (Art. 5(1)(e)). The log itself is protected by triggers (see migrations m002 and
m004): a row can change only once, by erasure, and then never again.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

from sqlite_utils import Database

from ..config import Settings
from ..errors import DatabaseError, SubscriberError
from ..store.db import transaction, utc_now
from . import journal, keys
from .redact import places_holding, redact_address, redact_bounce_reports

ACTIONS = (
    "subscribe",  # asked for a subscription (double opt-in started, or preferences page)
    "confirm",  # clicked the confirmation link
    "add",  # added by the coordinator on the command line
    "import",  # imported from a CSV file
    "unsubscribe",
    "rectify",  # name or language corrected
    "bounce",
    "complaint",
    "erase",
    "purge",  # unconfirmed sign-up removed after the retention period
    "reactivate",  # a bounce or complaint undone by the coordinator
)
LAWFUL_BASES = ("consent", "legitimate_interest", "legal_obligation", None)
MAX_USER_AGENT = 500


def record(
    db: Database,
    action: str,
    *,
    subscriber_id: int | None,
    list_id: int | None,
    channel: str,
    source: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    lawful_basis: str | None = "consent",
    consent_text_id: int | None = None,
    detail: str | None = None,
) -> int:
    """Append one event (UTC time) to the consent log and return its id."""
    if action not in ACTIONS:
        raise ValueError(f"unknown consent action {action!r}")
    if lawful_basis not in LAWFUL_BASES:
        raise ValueError(f"unknown lawful basis {lawful_basis!r}")
    row = [
        utc_now(),
        action,
        subscriber_id,
        list_id,
        channel,
        source,
        ip,
        None if user_agent is None else user_agent[:MAX_USER_AGENT],
        lawful_basis,
        consent_text_id,
        detail,
    ]
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO consent_log (at, action, subscriber_id, list_id, channel, source, ip, "
            "user_agent, lawful_basis, consent_text_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        return cursor.lastrowid


def consent_text_id(db: Database, body: str) -> int:
    """The id of this exact consent text, storing it once (by SHA-256) with the next version."""
    if not body or not body.strip():
        raise SubscriberError("the consent text shown to the person is empty")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    with transaction(db):
        row = db.execute("SELECT id FROM consent_texts WHERE sha256 = ?", [digest]).fetchone()
        if row:
            return row[0]
        cursor = db.execute(
            "INSERT INTO consent_texts (sha256, version, body, created) "
            "VALUES (?, (SELECT coalesce(max(version), 0) + 1 FROM consent_texts), ?, ?)",
            [digest, body, utc_now()],
        )
        return cursor.lastrowid


# --- suppression list: keyed hashes of erased addresses ----------------------------------------


def address_hmac(settings: Settings, email: str, key: str | None = None) -> str:
    """HMAC-SHA256 of a normalised address under the secret key (or `key`): still personal
    data, kept only so that an erased person is not imported again. Rows remember their key's
    fingerprint, and `keys.require_cover` refuses to consult the list without every such key."""
    key_bytes = (key or settings.require_secret_key()).encode("utf-8")
    return hmac.new(key_bytes, email.encode("utf-8"), hashlib.sha256).hexdigest()


def suppressed_hmacs(db: Database, settings: Settings, emails: list[str]) -> dict[str, str]:
    """Of these normalised addresses, those on the suppression list (address -> hmac), checked
    under every key the list was written with (current and NEWSLETTER_SECRET_KEY_PREVIOUS);
    SecretKeyMissing when the list holds rows of a key that is not configured."""
    if not emails or db.execute("SELECT 1 FROM suppressions LIMIT 1").fetchone() is None:
        return {}
    by_hmac = {}
    for key in keys.require_cover(db, settings).values():
        by_hmac.update({address_hmac(settings, email, key): email for email in emails})
    found: dict[str, str] = {}
    candidates = list(by_hmac)
    for start in range(0, len(candidates), 500):  # SQLite's limit on bound parameters
        chunk = candidates[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = f"SELECT address_hmac FROM suppressions WHERE address_hmac IN ({marks})"  # noqa: S608 - only placeholders are formatted in
        for (digest,) in db.execute(sql, chunk):
            found.setdefault(by_hmac[digest], digest)
    return found


def unsuppress(db: Database, settings: Settings, email: str) -> None:
    """Drop an address from the suppression list under every configured key (a person erased
    before has signed up again and confirmed)."""
    digests = [address_hmac(settings, email, key) for key in settings.verification_keys]
    marks = ", ".join("?" for _ in digests)
    db.execute(f"DELETE FROM suppressions WHERE address_hmac IN ({marks})", digests)  # noqa: S608 - only placeholders are formatted in


def is_suppressed(db: Database, settings: Settings, email: str) -> bool:
    return bool(suppressed_hmacs(db, settings, [email]))


# --- access request ----------------------------------------------------------------------------


def export_subject(db: Database, subscriber_id: int) -> dict:
    """Everything held about one person, as one JSON-ready document (GDPR Art. 15 and 20)."""
    row = db.execute(
        "SELECT id, email, name, language, created FROM subscribers WHERE id = ?", [subscriber_id]
    ).fetchone()
    if row is None:
        raise SubscriberError(f"no subscriber with id {subscriber_id}")
    keys = ("id", "email", "name", "language", "created")
    document = {
        "format": "newsletter-subject-access/1",
        "generated_at": utc_now(),
        "profile": dict(zip(keys, row, strict=True)),
        "fields": dict(
            db.execute(
                "SELECT name, value FROM subscriber_fields WHERE subscriber_id = ? ORDER BY name",
                [subscriber_id],
            ).fetchall()
        ),
        "subscriptions": [
            dict(zip(("list", "title", "status", "created", "updated"), r, strict=True))
            for r in db.execute(
                "SELECT lists.name, lists.title, status, sub.created, sub.updated "
                "FROM subscriptions sub JOIN lists ON lists.id = sub.list_id "
                "WHERE subscriber_id = ? ORDER BY lists.name",
                [subscriber_id],
            )
        ],
        "consent_history": [],
        "issues_sent": [],  # delivered issues only; `deliveries` has every row in any state
        "deliveries": [],
    }
    events = db.execute(
        "SELECT log.at, log.action, lists.name, log.channel, log.source, log.ip, log.user_agent, "
        "log.lawful_basis, log.detail, t.version, t.sha256, t.body FROM consent_log log "
        "LEFT JOIN lists ON lists.id = log.list_id "
        "LEFT JOIN consent_texts t ON t.id = log.consent_text_id "
        "WHERE log.subscriber_id = ? ORDER BY log.id",
        [subscriber_id],
    )
    for at, action, list_name, channel, source, ip, agent, basis, detail, ver, sha, body in events:
        document["consent_history"].append(
            {
                "at": at,
                "action": action,
                "list": list_name,
                "channel": channel,
                "source": source,
                "ip": ip,
                "user_agent": agent,
                "lawful_basis": basis,
                "detail": detail,
                "text_shown": None
                if sha is None
                else {"version": ver, "sha256": sha, "text": body},
            }
        )
    if db["deliveries"].exists():
        deliveries = _deliveries(db, subscriber_id)
        document["issues_sent"] = [
            {key: row[key] for key in ("issue", "sent_at", "message_id")}
            for row in sorted(
                (row for row in deliveries if row["state"] == "sent"),
                key=lambda row: row["sent_at"] or "",
            )
        ]
        document["deliveries"] = deliveries
    if db["bounce_events"].exists():
        document["bounces"] = _bounce_reports(db, subscriber_id)
    if db["service_mail"].exists():  # the delivery wing's outbox, read here as plain rows
        document["service_mail"] = [
            dict(zip(("kind", "state", "created", "sent_at", "last_reply"), r, strict=True))
            for r in db.execute(
                "SELECT kind, state, created, sent_at, last_reply FROM service_mail "
                "WHERE subscriber_id = ? ORDER BY id",
                [subscriber_id],
            )
        ]
    return document


BOUNCE_FIELDS = (
    "issue",
    "list",
    "kind",
    "status",
    "diagnostic",
    "reported_at",
    "decision",
    "unverified",
    "reader",
)


def _bounce_reports(db: Database, subscriber_id: int) -> list[dict]:
    """Bounce and complaint reports held about the person and what was decided on each (the
    diagnostic often quotes the address). Erasure deletes them."""
    return [
        dict(zip(BOUNCE_FIELDS, row, strict=True))
        for row in db.execute(
            "SELECT b.issue, lists.name, b.kind, b.status, b.diagnostic, b.reported_at, "
            "b.decision, b.unverified, b.reader FROM bounce_events b "
            "LEFT JOIN lists ON lists.id = b.list_id "
            "WHERE b.subscriber_id = ? ORDER BY b.reported_at, b.id",
            [subscriber_id],
        )
    ]


DELIVERY_FIELDS = (
    "issue",
    "list",
    "state",
    "attempts",
    "last_reply",
    "message_id",
    "queued_at",
    "updated_at",
    "sent_at",
)


def _deliveries(db: Database, subscriber_id: int) -> list[dict]:
    """Every send-ledger row held for the person, whatever its state: a failed or deferred
    row keeps the server's last reply, which may quote the address, so it is data held too.
    Read here rather than through `ledger`, which only answers per issue."""
    return [
        dict(zip(DELIVERY_FIELDS, row, strict=True))
        for row in db.execute(
            "SELECT d.issue, lists.name, d.state, d.attempts, d.last_reply, d.message_id, "
            "d.queued_at, d.updated_at, d.sent_at FROM deliveries d "
            "LEFT JOIN lists ON lists.id = d.list_id "
            "WHERE d.subscriber_id = ? ORDER BY d.queued_at, d.id",
            [subscriber_id],
        )
    ]


# --- erasure and purge -------------------------------------------------------------------------


# An anonymised log row keeps only the kind of channel: 'csv:<file>:<row>' -> 'csv' (the file
# name and row point at the person for anyone holding the file); 'cli', 'web' and the like stay.
CHANNEL_KIND_SQL = (
    "CASE WHEN instr(channel, ':') > 0 THEN substr(channel, 1, instr(channel, ':') - 1) "
    "ELSE channel END"
)


def _forget(db: Database, subscriber_id: int) -> None:
    """Anonymise the person's log and delivery rows, delete their service mail (sign-ups and
    mails waiting, failed or remembered), then delete them (subscriptions and tokens go with
    them by cascade). Must run inside a transaction.

    A log row keeps when, what, which list, the lawful basis and the consent text; it loses
    who, the IP address, the browser, the detail, the free-text source (it may quote another
    address of the person) and all but the kind of channel. The trigger from migration m004
    allows exactly that and nothing else."""
    db.execute(
        "UPDATE consent_log SET subscriber_id = NULL, ip = NULL, user_agent = NULL, detail = NULL, "  # noqa: S608 - only a fixed expression is formatted in
        f"source = NULL, channel = {CHANNEL_KIND_SQL}, anonymised = 1 WHERE subscriber_id = ?",
        [subscriber_id],
    )
    if db["deliveries"].exists():
        columns = {c.name for c in db["deliveries"].columns}
        reply = ", last_reply = NULL" if "last_reply" in columns else ""
        db.execute(
            f"UPDATE deliveries SET subscriber_id = NULL{reply} WHERE subscriber_id = ?",  # noqa: S608 - only placeholders or fixed names are formatted in
            [subscriber_id],
        )
    if db["bounce_events"].exists():  # reports quote the address; only the keyed hash stays
        db.execute("DELETE FROM bounce_events WHERE subscriber_id = ?", [subscriber_id])
    if db["service_mail"].exists():  # waiting, failed and remembered service mail (delivery)
        db.execute(
            "DELETE FROM service_mail WHERE subscriber_id = ? OR recipient = "
            "(SELECT email FROM subscribers WHERE id = ?)",
            [subscriber_id, subscriber_id],
        )
    # custom fields would go by cascade too; deleted by name so the erasure does not depend on
    # the foreign-key pragma of the connection
    db.execute("DELETE FROM subscriber_fields WHERE subscriber_id = ?", [subscriber_id])
    db.execute("DELETE FROM subscribers WHERE id = ?", [subscriber_id])


def erase_subscriber(
    db: Database, settings: Settings, subscriber: int | str, *, channel: str = "cli"
) -> None:
    """Erase a person (by id or address): personal data deleted, log and deliveries anonymised,
    the address kept only as a keyed HMAC on the suppression list, and the database file and
    WAL rewritten so no copy of the address remains on disk."""
    from .subscriber_fields import normalise_email

    if isinstance(subscriber, int):
        row = db.execute("SELECT id, email FROM subscribers WHERE id = ?", [subscriber]).fetchone()
        label = f"id {subscriber}"
    else:
        email = normalise_email(subscriber)
        row = db.execute("SELECT id, email FROM subscribers WHERE email = ?", [email]).fetchone()
        label = email
    suppression = address_hmac(settings, row[1]) if row else None
    if row is None:
        erased = not isinstance(subscriber, int) and is_suppressed(db, settings, label)
        raise SubscriberError(
            f"no subscriber {label}" + (" (already erased)" if erased else "; nothing to erase")
        )
    with transaction(db):
        _forget(db, row[0])
        redact_address(db, row[1])  # e.g. an import file named after them, in others' rows
        redact_bounce_reports(db, row[1])  # a report about several people (bounces, issue 20)
        db.execute(
            "INSERT OR IGNORE INTO suppressions (address_hmac, reason, created, key_fingerprint) "
            "VALUES (?, ?, ?, ?)",
            [suppression, "erased", utc_now(), keys.fingerprint(settings.secret_key)],
        )
        journal.append(db, {"action": "erase", "hmac": suppression}, settings)
        record(
            db,
            "erase",
            subscriber_id=None,
            list_id=None,
            channel=channel,
            lawful_basis="legal_obligation",
        )
    scrub_files(db, [row[1]])


def purge_pending(
    db: Database, settings: Settings, older_than_days: int | None = None
) -> dict[str, int]:
    """Remove pending (never confirmed) subscriptions older than the retention period, and the
    people who have nothing else left; also drop expired tokens, and checkpoint the WAL so no
    deleted data stays in it. Returns counts."""
    days = settings.pending_retention_days if older_than_days is None else older_than_days
    if days < 0:
        raise SubscriberError("--older-than must be 0 or more days")
    cutoff = utc_now(-days * 86400)
    removed_people = 0
    with transaction(db):
        pending = db.execute(
            "SELECT id, subscriber_id, list_id FROM subscriptions "
            "WHERE status = 'pending' AND created < ?",
            [cutoff],
        ).fetchall()
        for sub_id, subscriber_id, list_pk in pending:
            db.execute("DELETE FROM subscriptions WHERE id = ?", [sub_id])
            record(
                db,
                "purge",
                subscriber_id=subscriber_id,
                list_id=list_pk,
                channel="cli",
                lawful_basis=None,
                detail=f"unconfirmed for more than {days} days",
            )
        for subscriber_id in sorted({p[1] for p in pending}):
            left = db.execute(
                "SELECT 1 FROM subscriptions WHERE subscriber_id = ?", [subscriber_id]
            ).fetchone()
            if left is None:
                _forget(db, subscriber_id)
                removed_people += 1
        tokens = db.execute(
            "DELETE FROM tokens WHERE expires IS NOT NULL AND expires < ?", [utc_now()]
        ).rowcount
    scrub_files(db, [])  # also finishes the scrub of an erasure made while others were reading
    return {"subscriptions": len(pending), "subscribers": removed_people, "tokens": tokens}


SCRUB_BUSY_MS = 100  # wait per checkpoint attempt for readers to let go of the WAL


def scrub_files(db: Database, needles: list[str], attempts: int = 10) -> None:
    """Copy the WAL into the database and truncate it; VACUUM if a needle is still in the file.

    secure_delete (set by mailer.store.db) zeroes deleted cells, so VACUUM is rarely needed. A
    reader in another process (a running send) keeps the WAL alive: retry for a few seconds,
    then say so instead of pretending. A TRUNCATE checkpoint waits in the busy handler for
    readers, so the connection's 30 s busy timeout is shortened meanwhile: otherwise an erasure
    during a send would hang for minutes (a web request included).
    """
    path = _main_file(db)
    (previous,) = db.execute("PRAGMA busy_timeout").fetchone()
    db.execute(f"PRAGMA busy_timeout = {SCRUB_BUSY_MS}")
    try:
        for attempt in range(attempts):
            busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                break
            time.sleep(0.05 * (attempt + 1))
        else:
            raise DatabaseError(
                f"{path}: the data is deleted, but another process is reading the database, so "
                "old copies remain in the -wal file until it is checkpointed; run `newsletter "
                "subscribers purge` when the sender and the web endpoint are idle"
            )
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(previous)}")
    if path is not None and needles and _file_contains(path, needles):
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if _file_contains(path, needles):
            places = sorted({p for n in needles for p in places_holding(db, n)})
            where = f" (it stands in {', '.join(places)})" if places else ""
            raise DatabaseError(
                f"{path}: the person is erased, but the address is still in the file{where}; "
                "remove it there (for example with `sqlite3`), then run `newsletter "
                "subscribers purge` to scrub the file"
            )


def _main_file(db: Database) -> Path | None:
    for _seq, name, file in db.execute("PRAGMA database_list"):
        if name == "main" and file:
            return Path(file)
    return None


def _file_contains(path: Path, needles: list[str], chunk_size: int = 1 << 20) -> bool:
    """Whether any needle's UTF-8 bytes occur in the file, reading it in fixed-size chunks."""
    patterns = [n.encode("utf-8") for n in needles if n]
    overlap = max(len(p) for p in patterns) - 1
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            window = tail + chunk
            if any(p in window for p in patterns):
                return True
            tail = window[-overlap:] if overlap else b""
    return False
