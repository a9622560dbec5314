"""`newsletter gdpr record`: the record of processing activities (GDPR Art. 30(1)) as Markdown.

Filled from what the installation actually does: the organisation from newsletter.yml, the
categories of data from the database schema as it is (every table and column, custom fields by
name), the recipients from the SMTP settings, retention and security from the settings. Parts
only the organisation can know are marked "(to fill in)". No personal data and no secret goes
into the record: counts, names of columns and fields, host names.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Mapping
from urllib.parse import urlsplit

from sqlite_utils import Database

from ..config import Settings
from ..store.db import database_file

TO_FILL = "*(to fill in)*"
# what the columns of our own tables hold; a table or column not named here (added by a newer
# version) is still listed, with its columns, under "Other stored data"
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "subscribers": (
        "Subscribers",
        {
            "email": "e-mail address",
            "name": "name (optional)",
            "language": "preferred language",
            "created": "when added",
        },
    ),
    "subscriber_fields": ("Custom fields", {"name": "field name", "value": "field value"}),
    "subscriptions": (
        "Subscriptions",
        {"list_id": "list", "status": "status", "created": "since", "updated": "last change"},
    ),
    "consent_log": (
        "Consent records (proof of consent, Art. 7(1))",
        {
            "at": "time",
            "action": "what happened",
            "channel": "how (web, import, command line)",
            "source": "where the consent was collected",
            "ip": "IP address (web sign-ups)",
            "user_agent": "browser identification (web sign-ups)",
            "lawful_basis": "lawful basis",
            "consent_text_id": "the text the person agreed to",
            "detail": "details of the event",
        },
    ),
    "tokens": (
        "Personal links (unsubscribe, preferences, confirmation)",
        {"token_hash": "SHA-256 hash of the link's secret (the link itself is not stored)"},
    ),
    "suppressions": (
        "Suppression list",
        {
            "address_hmac": "keyed hash (HMAC) of an erased or blocked address",
            "key_fingerprint": "which secret key made the hash (a fingerprint, not the key)",
        },
    ),
    "deliveries": (
        "Send ledger (folded into per-issue counts after NEWSLETTER_LEDGER_RETENTION_DAYS)",
        {
            "issue": "which issue",
            "state": "delivery state",
            "last_reply": "the mail server's last reply (may quote the address)",
            "message_id": "Message-ID of the copy sent",
            "sent_at": "when sent",
        },
    ),
    "service_mail": (
        "Service mail outbox (confirmations, data-download and erasure links, welcome)",
        {
            "recipient": "address",
            "message": "the mail as it will be sent (recipient and message go once sent)",
            "request": "a web sign-up waiting to be handled (name, language, lists, IP, browser)",
            "last_reply": "the mail server's last reply",
            "envelope_from": "a bounce notice's return path (a token, no address)",
        },
    ),
    "bounce_events": (
        "Bounce and complaint reports",
        {
            "kind": "hard, soft or complaint",
            "status": "status code",
            "diagnostic": "the reporting server's words",
            "reported_at": "when reported",
            "decision": "what was done (bounced, unsubscribed, counted)",
            "unverified": "whether the report proved it answers our message (forgeable if not)",
            "reader": "which reader found it",
        },
    ),
}
PERSONAL_LINK = ("subscriber_id",)
SKIP_TABLES = ("_sqlite_migrations", "sqlite_sequence", "send_pacing", "send_counts", "send_locks")
SECURITY_LABELS = {"starttls": "STARTTLS", "ssl": "TLS (SMTPS)", "none": "no encryption"}


def render_record(db: Database, settings: Settings, site: Mapping[str, str], *, today=None) -> str:
    """The record as Markdown text."""
    today = today or dt.date.today()
    out: list[str] = []
    organisation = site.get("organisation") or TO_FILL
    out += [
        f"# Record of processing activities: newsletter of {organisation}",
        "",
        f"GDPR Article 30(1). Generated on {today.isoformat()} by `newsletter gdpr record` from "
        "the settings, `newsletter.yml` and the database schema. Parts marked "
        f"{TO_FILL} only the organisation can answer; review the whole record before filing it.",
        "",
        "## Controller",
        "",
        f"- Name: {organisation}",
        f"- Address: {site.get('address') or TO_FILL}",
        f"- Contact: {_contact(site)}",
        f"- Web: {site.get('web') or TO_FILL}",
        f"- Data protection officer or representative, if any: {TO_FILL}",
        "",
        "## Purposes of the processing",
        "",
        "- Sending the newsletter to people who asked for it, per list:",
    ]
    out += [f"  - `{name}`: {title or name} ({n} active)" for name, title, n in _lists(db)]
    out += [
        "- Keeping proof of each consent: who, when, how and the text agreed to (Art. 7(1)).",
        "- Honouring unsubscribes, access requests and erasure; keeping erased addresses from "
        "being added again (suppression list).",
        "- Recording what was sent to whom and what the mail server answered, so that a send "
        "can resume without mailing anyone twice.",
        "",
        f"Lawful basis: {_bases(db)}.",
        "",
        "## Categories of data subjects",
        "",
        "People who subscribed to a list (on the web with double opt-in, or added or imported "
        "by the organisation with their consent), and people who signed up on the web but have "
        "not yet confirmed.",
        "",
        "## Categories of personal data (from the database schema)",
        "",
    ]
    out += _categories(db)
    out += ["", *_tracking(settings), "", "## Recipients"]
    out += [
        "",
        f"- The SMTP relay `{settings.smtp_host}` (port {settings.smtp_port}, "
        f"{SECURITY_LABELS.get(settings.smtp_security, settings.smtp_security)}) receives each "
        "recipient's address, name, personal links and the custom fields an issue uses, to "
        "deliver the newsletter. Processor "
        f"agreement with its operator: {TO_FILL}",
        "- The recipients' own mail providers receive the message addressed to them.",
        f"- The web endpoint at {_host(settings.base_url)} is run by the controller; where it is "
        f"hosted: {TO_FILL}",
        "",
        "## Transfers to third countries",
        "",
        f"None by this tool itself. Whether the SMTP relay or the web host processes data outside "
        f"the EU/EEA: {TO_FILL}",
        "",
        "## Retention",
        "",
        "- Subscribers and their consent records: while they are subscribed; after an "
        "unsubscribe the subscription stays, marked unsubscribed, as proof, until the person "
        "asks for erasure.",
        f"- Sign-ups never confirmed: deleted after {settings.pending_retention_days} days "
        "(`NEWSLETTER_PENDING_RETENTION_DAYS`, by `newsletter subscribers purge`; run it "
        "daily).",
        f"- Confirmation links: valid for {settings.confirm_ttl_hours} hours "
        "(`NEWSLETTER_CONFIRM_TTL_HOURS`); expired links are deleted by `purge`.",
        "- Suppression list: a keyed hash of each erased address, kept for as long as the list "
        "is used, only to keep the address from being added again.",
        "- Erasure journal (`subscribers.db.erasures`, beside the database and in each backup): "
        "the same keyed hashes, and the row numbers of withdrawn subscriptions, kept as long as "
        "the list is used, only so that restoring a backup cannot undo an erasure or an "
        "unsubscription. Backups: as long as you keep them (docs/backup.md).",
        "- Consent records and the send ledger of an erased person: kept without anything that "
        "identifies them (when, what, which list).",
        f"- Send ledger (who got which issue, and the bounce reports about those copies): "
        f"{settings.ledger_retention_days} days after an issue's last delivery activity "
        "(`NEWSLETTER_LEDGER_RETENTION_DAYS`, long enough to match late bounces and answer "
        '"did we send to X?"); then folded into per-issue counts that name nobody, by '
        "`newsletter serve` (every 6 hours), `newsletter scheduled run` and "
        "`newsletter ledger prune`.",
        "",
        "## Erasure (Art. 17)",
        "",
        "`newsletter subscribers erase EMAIL`, or the person's own link on the web: deletes the "
        "person, their custom fields, subscriptions and links; anonymises their consent records "
        "and send ledger rows; keeps only a keyed hash of the address on the suppression list; "
        "and rewrites the database file and its write-ahead log so that no copy of the deleted "
        "data stays on disk. The erasure journal beside the database (`subscribers.db.erasures`, "
        "also inside each `newsletter backup`) keeps the same keyed hash, and the row numbers of "
        "withdrawn subscriptions, so that `newsletter restore` re-applies every erasure and "
        "unsubscription made after a backup (docs/backup.md). "
        "Access requests (Art. 15 and 20) are answered with "
        "`newsletter subscribers show EMAIL --json` or the person's own download link.",
        "",
        "## Technical and organisational security measures (Art. 32)",
        "",
    ]
    out += _security(db, settings)
    out += ["", f"Organisational measures (who has access, backups, training): {TO_FILL}", ""]
    return "\n".join(out)


def _tracking(settings: Settings) -> list[str]:
    """What is counted about opening and clicking (NEWSLETTER_CLICK_COUNTING)."""
    if settings.click_counting != "on":
        return [
            "No tracking pixels and no click redirects are used: opening and clicking are not "
            "recorded."
        ]
    return [
        "No tracking pixels are used: opening is not recorded. Clicks are counted in "
        "aggregate (`NEWSLETTER_CLICK_COUNTING=on`): the links of an issue's HTML part go "
        "through a redirect on the web endpoint that is the same in every copy of the issue "
        "and adds one to a counter per issue and link (table `link_clicks`: issue, link "
        "number, count). Nothing about the person who clicks is recorded: no subscriber, IP "
        "address, browser or time, and the web server's access log leaves these addresses "
        "out. The privacy section of each such issue tells the readers so."
    ]


def _lists(db: Database) -> list[tuple[str, str, int]]:
    return db.execute(
        "SELECT l.name, coalesce(l.title, ''), "
        "(SELECT count(*) FROM subscriptions s WHERE s.list_id = l.id AND s.status = 'active') "
        "FROM lists l ORDER BY l.name"
    ).fetchall()


def _bases(db: Database) -> str:
    used = [b for (b,) in db.execute("SELECT DISTINCT lawful_basis FROM consent_log") if b]
    names = {
        "consent": "consent, Art. 6(1)(a)",
        "legitimate_interest": "legitimate interest, Art. 6(1)(f)",
        "legal_obligation": "legal obligation, Art. 6(1)(c)",
    }
    return "; ".join(names.get(b, b) for b in sorted(used)) or "consent, Art. 6(1)(a)"


def _categories(db: Database) -> list[str]:
    out: list[str] = []
    tables = [t for t in db.table_names() if t not in SKIP_TABLES and not t.startswith("sqlite_")]
    other = []
    for table in tables:
        columns = [c.name for c in db[table].columns]
        if table not in TABLES:
            if any(c in PERSONAL_LINK or c in ("email", "address") for c in columns):
                other.append(f"- `{table}`: {', '.join(columns)}")
            continue
        title, described = TABLES[table]
        held = [f"{described[c]} (`{c}`)" for c in columns if c in described]
        rest = [c for c in columns if c not in described and c != "id" and not c.endswith("_id")]
        line = f"- **{title}** (`{table}`): " + "; ".join(held)
        if rest:
            line += f"; also {', '.join(f'`{c}`' for c in rest)}"
        out.append(line)
        if table == "subscriber_fields":
            names = [n for (n,) in db.execute("SELECT DISTINCT name FROM subscriber_fields")]
            out.append(
                "  - fields in use: "
                + (", ".join(f"`{n}`" for n in sorted(names)) if names else "none yet")
            )
    if other:
        out += ["", "Other stored data linked to a person:", *other]
    return out


def _security(db: Database, settings: Settings) -> list[str]:
    https = settings.base_url.startswith("https://")
    out = [
        "- Personal links carry a random secret of which only a hash is stored; they are "
        "compared in constant time; confirming and unsubscribing take a POST (link scanners "
        "cannot trigger them).",
        "- Web forms have CSRF protection and rate limits; pages send security headers.",
        f"- The web endpoint is {'served over HTTPS' if https else 'NOT served over HTTPS'} "
        f"({settings.base_url}).",
        f"- Mail goes to the relay with {SECURITY_LABELS.get(settings.smtp_security, '?')}"
        + (" and a login" if settings.smtp_username else "")
        + (f"; messages are DKIM-signed for {settings.dkim_domain}" if settings.dkim_domain else "")
        + ".",
        "- Passwords and keys are read from the environment or `.env` and never logged.",
        "- The database deletes securely (`secure_delete`) and checkpoints its write-ahead log "
        "after an erasure.",
    ]
    path = database_file(db)
    if path and path != ":memory:" and os.path.exists(path):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        readable = (
            "readable by other users of the machine"
            if mode & 0o004
            else "not readable by other users"
        )
        out.append(f"- The database file {path} has mode {mode:o} ({readable}).")
    return out


def _contact(site: Mapping[str, str]) -> str:
    return ", ".join(v for v in (site.get("email"), site.get("phone")) if v) or TO_FILL


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
