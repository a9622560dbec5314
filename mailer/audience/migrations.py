"""Schema migrations: subscribers, lists, subscriptions, consent log, tokens, suppressions.

Migrations are append-only: never edit one that has shipped, add the next `m00N_...` instead.
Each runs inside the IMMEDIATE transaction `mailer.store.db.apply_migrations` opens and is recorded
in `_sqlite_migrations` under the set name "newsletter-subscribers".
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("newsletter-subscribers")

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
TOKEN_PURPOSES = ("unsubscribe", "preferences", "confirm")


def _run(db: Database, script: str) -> None:
    """Run statements one by one: `executescript` would COMMIT the surrounding transaction.

    A statement ends with a line ending in `;`, except inside a trigger, which ends at `END;`.
    """
    statement: list[str] = []
    in_trigger = False
    for line in script.splitlines():
        if not line.strip():
            continue
        statement.append(line)
        stripped = line.strip()
        if stripped.upper().startswith("CREATE TRIGGER"):
            in_trigger = True
        if stripped.endswith(";") and (not in_trigger or stripped.upper() == "END;"):
            db.execute("\n".join(statement))
            statement, in_trigger = [], False
    if statement:
        db.execute("\n".join(statement))


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    """People, lists, subscriptions, consent texts and log, tokens, suppressions."""
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    purposes = ", ".join(f"'{p}'" for p in TOKEN_PURPOSES)
    _run(
        db,
        f"""
        CREATE TABLE lists (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            title TEXT,
            created TEXT NOT NULL
        );
        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL,
            created TEXT NOT NULL
        );
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY,
            subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            list_id INTEGER NOT NULL REFERENCES lists(id),
            status TEXT NOT NULL CHECK (status IN ({statuses})),
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            UNIQUE (subscriber_id, list_id)
        );
        CREATE TABLE consent_texts (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            version INTEGER NOT NULL UNIQUE,
            body TEXT NOT NULL,
            created TEXT NOT NULL
        );
        CREATE TABLE consent_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            subscriber_id INTEGER REFERENCES subscribers(id),
            list_id INTEGER REFERENCES lists(id),
            channel TEXT NOT NULL,
            source TEXT,
            ip TEXT,
            user_agent TEXT,
            lawful_basis TEXT,
            consent_text_id INTEGER REFERENCES consent_texts(id),
            detail TEXT,
            anonymised INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX consent_log_subscriber ON consent_log(subscriber_id);
        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY,
            purpose TEXT NOT NULL CHECK (purpose IN ({purposes})),
            token_hash TEXT NOT NULL UNIQUE,
            subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            list_id INTEGER REFERENCES lists(id),
            scope TEXT,
            created TEXT NOT NULL,
            expires TEXT,
            used_at TEXT
        );
        CREATE INDEX tokens_subscriber ON tokens(subscriber_id);
        CREATE TABLE suppressions (
            id INTEGER PRIMARY KEY,
            address_hmac TEXT NOT NULL UNIQUE,
            reason TEXT NOT NULL,
            created TEXT NOT NULL
        );
        """,
    )


@MIGRATIONS()
def m002_append_only_consent_log(db: Database) -> None:
    """The database itself refuses to rewrite history: no DELETE, and no UPDATE of a log row
    except the one-way anonymisation done by erasure (personal columns to NULL, flag to 1)."""
    _run(
        db,
        """
        CREATE TRIGGER consent_log_no_delete BEFORE DELETE ON consent_log
        BEGIN
            SELECT RAISE(ABORT, 'consent_log is append-only: rows cannot be deleted');
        END;
        CREATE TRIGGER consent_log_only_anonymise BEFORE UPDATE ON consent_log
        WHEN NOT (
            OLD.anonymised = 0 AND NEW.anonymised = 1
            AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
            AND NEW.list_id IS OLD.list_id AND NEW.channel = OLD.channel
            AND NEW.source IS OLD.source AND NEW.lawful_basis IS OLD.lawful_basis
            AND NEW.consent_text_id IS OLD.consent_text_id
            AND NEW.subscriber_id IS NULL AND NEW.ip IS NULL
            AND NEW.user_agent IS NULL AND NEW.detail IS NULL
        )
        BEGIN
            SELECT RAISE(ABORT, 'consent_log is append-only: only erasure may anonymise a row');
        END;
        CREATE TRIGGER consent_texts_no_update BEFORE UPDATE ON consent_texts
        BEGIN
            SELECT RAISE(ABORT, 'consent_texts are immutable: record a new version');
        END;
        CREATE TRIGGER consent_texts_no_delete BEFORE DELETE ON consent_texts
        BEGIN
            SELECT RAISE(ABORT, 'consent_texts are immutable: record a new version');
        END;
        CREATE INDEX subscriptions_list_status ON subscriptions(list_id, status);
        """,
    )


@MIGRATIONS()
def m003_subscription_consent_event(db: Database) -> None:
    """Each subscription points at the log event that made it active (the sender re-checks it
    before every message); existing rows get the latest add/import/confirm event."""
    _run(
        db,
        """
        ALTER TABLE subscriptions
            ADD COLUMN consent_event_id INTEGER REFERENCES consent_log(id);
        UPDATE subscriptions SET consent_event_id = (
            SELECT max(consent_log.id) FROM consent_log
            WHERE consent_log.subscriber_id = subscriptions.subscriber_id
              AND consent_log.list_id = subscriptions.list_id
              AND consent_log.action IN ('add', 'import', 'confirm', 'subscribe')
        ) WHERE status = 'active';
        CREATE INDEX subscriptions_created ON subscriptions(status, created);
        """,
    )


@MIGRATIONS()
def m004_erasure_scrubs_source_and_channel(db: Database) -> None:
    """Erasure also clears `source` (free text: it may quote an address) and cuts `channel` to
    its kind ('csv:<file>:<row>' -> 'csv'; 'cli', 'web', 'one-click', 'smtp' stay), since a
    file name and row re-identify the person. Rows anonymised by earlier versions are scrubbed
    here, between dropping the old trigger and creating the stricter one; after that an
    anonymised row is fully immutable again, and so is every row not yet anonymised."""
    _run(
        db,
        """
        DROP TRIGGER consent_log_only_anonymise;
        UPDATE consent_log SET source = NULL,
            channel = CASE WHEN instr(channel, ':') > 0
                THEN substr(channel, 1, instr(channel, ':') - 1) ELSE channel END
        WHERE anonymised = 1
          AND (source IS NOT NULL OR instr(channel, ':') > 0);
        CREATE TRIGGER consent_log_only_anonymise BEFORE UPDATE ON consent_log
        WHEN NOT (
            OLD.anonymised = 0 AND NEW.anonymised = 1
            AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
            AND NEW.list_id IS OLD.list_id
            AND NEW.channel = CASE WHEN instr(OLD.channel, ':') > 0
                THEN substr(OLD.channel, 1, instr(OLD.channel, ':') - 1) ELSE OLD.channel END
            AND NEW.lawful_basis IS OLD.lawful_basis
            AND NEW.consent_text_id IS OLD.consent_text_id
            AND NEW.subscriber_id IS NULL AND NEW.ip IS NULL AND NEW.user_agent IS NULL
            AND NEW.detail IS NULL AND NEW.source IS NULL
        )
        BEGIN
            SELECT RAISE(ABORT, 'consent_log is append-only: only erasure may anonymise a row');
        END;
        """,
    )


@MIGRATIONS()
def m005_list_visibility(db: Database) -> None:
    """Lists offered on the public sign-up page are marked; an internal list (a test list, the
    board) is not offered to strangers. Existing lists stay offered, as they were."""
    _run(
        db,
        """
        ALTER TABLE lists ADD COLUMN public INTEGER NOT NULL DEFAULT 1 CHECK (public IN (0, 1));
        """,
    )


@MIGRATIONS()
def m006_subscriptions_by_list(db: Database) -> None:
    """Queueing a send walks one list's active subscriptions in subscriber order, in short
    batches (a million-person list must not hold the write lock for seconds); this index
    serves that walk and everything the (list_id, status) index it replaces served."""
    _run(
        db,
        """
        DROP INDEX subscriptions_list_status;
        CREATE INDEX subscriptions_by_list ON subscriptions(list_id, status, subscriber_id);
        """,
    )


@MIGRATIONS()
def m008_subscriber_fields(db: Database) -> None:
    """Custom fields per person (län, organisation, roll ...), imported from extra columns or
    set by `subscribers set`; deleted with the person (erasure) by cascade."""
    _run(
        db,
        """
        CREATE TABLE subscriber_fields (
            subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (subscriber_id, name)
        ) WITHOUT ROWID;
        CREATE INDEX subscriber_fields_name_value ON subscriber_fields(name, value);
        """,
    )


@MIGRATIONS()
def m050_suppression_key_fingerprints(db: Database) -> None:
    """Each suppression row remembers which secret key made its keyed hash (a fingerprint,
    never the key), so a key change cannot silently forget erasures: commands refuse until the
    old key is declared (mailer.audience.keys). Rows from before this migration get the key in
    use the first time a command checks the list. `suppression_keys` (kept by triggers) lists
    the fingerprints in use, so the check per import batch does not scan the list.
    `erasure_journal_state` numbers the entries
    of the erasure journal kept beside the database (mailer.audience.journal); a backup copies
    it, so a restore knows which entries came after it."""
    _run(
        db,
        """
        ALTER TABLE suppressions ADD COLUMN key_fingerprint TEXT;
        CREATE INDEX suppressions_key_fingerprint ON suppressions(key_fingerprint);
        CREATE TABLE suppression_keys (fingerprint TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TRIGGER suppression_key_on_insert AFTER INSERT ON suppressions
        WHEN NEW.key_fingerprint IS NOT NULL
        BEGIN
            INSERT OR IGNORE INTO suppression_keys (fingerprint) VALUES (NEW.key_fingerprint);
        END;
        CREATE TRIGGER suppression_key_on_update AFTER UPDATE OF key_fingerprint ON suppressions
        WHEN NEW.key_fingerprint IS NOT NULL
        BEGIN
            INSERT OR IGNORE INTO suppression_keys (fingerprint) VALUES (NEW.key_fingerprint);
        END;
        CREATE TABLE erasure_journal_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq INTEGER NOT NULL
        );
        INSERT INTO erasure_journal_state (id, last_seq) VALUES (1, 0);
        """,
    )
