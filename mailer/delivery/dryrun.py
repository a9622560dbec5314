"""`newsletter send --dry-run DIR`: every message a send would make, written as .eml files.

Nothing is sent and neither the ledger nor the token table is written: the links carry a
placeholder token. The files show exactly the headers and parts a real send would produce.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlite_utils import Database

from ..audience import fields, subscribers
from ..config import Settings
from ..errors import SendError
from . import ledger
from .dkim import signer_for
from .engine import SendSummary
from .message import MessageFactory, RecipientValues, delivery_message_id


def _recipients(db: Database, slug: str, list_name: str, retry_failed: bool, segment_ids=None):
    """Who a send would mail now: this list's pending ledger rows still active (with the rows
    `ledger.adopt` would move here, and failed ones with `retry_failed`), then new active
    people, as the real run chooses them."""
    list_pk = subscribers.list_id(db, list_name)
    states = ("queued", "sending", "deferred", *(("failed",) if retry_failed else ()))
    marks = ", ".join("?" * len(states))
    sql = (
        "SELECT d.subscriber_id, s.email, s.name FROM deliveries d "  # noqa: S608 - fixed clauses
        "JOIN subscribers s ON s.id = d.subscriber_id "
        f"WHERE d.issue = ? AND ((d.list_id = ? AND d.state IN ({marks})) "
        f"OR d.id IN (SELECT id FROM deliveries WHERE {ledger.ADOPTABLE})) ORDER BY d.id"
    )
    pending = db.execute(sql, [slug, list_pk, *states, slug, list_pk, list_pk]).fetchall()
    for subscriber_id, address, name in pending:
        if subscribers.active_consent_event(db, subscriber_id, list_name) is not None:
            yield subscriber_id, address, name
    new = db.execute(
        "SELECT s.id, s.email, s.name FROM subscriptions sub "
        "JOIN subscribers s ON s.id = sub.subscriber_id "
        "WHERE sub.list_id = ? AND sub.status = 'active' AND NOT EXISTS (SELECT 1 FROM "
        "deliveries d WHERE d.issue = ? AND d.subscriber_id = sub.subscriber_id) ORDER BY s.id",
        [list_pk, slug],
    )
    for row in new:
        if segment_ids is None or row[0] in segment_ids:
            yield row


def write_dry_run(
    db: Database,
    settings: Settings,
    factory: MessageFactory,
    slug: str,
    list_name: str,
    out_dir: Path,
    limit: int | None,
    retry_failed: bool = False,
    *,
    segment_ids: set[int] | None = None,
) -> SendSummary:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SendError(f"{out_dir}: cannot create the dry-run folder ({exc})") from None
    signer = signer_for(settings)
    secret = settings.require_secret_key()
    base = settings.base_url.rstrip("/")
    summary = SendSummary(
        issue=slug, list_name=list_name, already_sent=ledger.counts(db, slug)["sent"]
    )
    for subscriber_id, address, name in _recipients(db, slug, list_name, retry_failed, segment_ids):
        if limit is not None and summary.dry_run >= limit:
            break
        values = RecipientValues(
            email=address,
            name=name or "",
            unsubscribe_url=f"{base}/unsubscribe/dry-run",
            preferences_url=f"{base}/preferences/dry-run",
            fields=fields.fields_of(db, subscriber_id) if factory.field_names else {},
        )
        message_id = delivery_message_id(secret, slug, subscriber_id, factory.domain)
        data = factory.render(values, message_id=message_id)
        if signer:
            data = signer.sign(data)
        summary.dry_run += 1
        target = out_dir / f"{summary.dry_run:05d}-subscriber-{subscriber_id}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(data)
        os.replace(partial, target)
    return summary
