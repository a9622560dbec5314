"""International addresses (RFC 6531): which recipients need SMTPUTF8, and what happens when
the server does not offer it.

An address with a non-ASCII local part (`åsa.lindström@exempel.se`) can only travel through a
server that lists SMTPUTF8 in its EHLO reply; the domain is always sent in its ASCII (IDNA) form.
When the server does not offer it, such a recipient is deferred (not failed) with the reason
below: the row stays pending, and a later run through a server that offers SMTPUTF8 sends it.
The decision is made per recipient before the row is claimed, so no attempt is counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

DEFERRAL_PREFIX = "deferred: the address needs SMTPUTF8"


class _Offers(Protocol):
    address: str

    def offers_smtputf8(self) -> bool: ...


def needs_smtputf8(*addresses: str) -> bool:
    """True when any of the addresses has a non-ASCII character (the local part, as stored)."""
    return any(not address.isascii() for address in addresses)


def mail_options(sender: str, recipient: str, offered: bool) -> list[str]:
    """Extra MAIL FROM parameters for one message: ["SMTPUTF8"] when needed and offered."""
    return ["SMTPUTF8"] if offered and needs_smtputf8(sender, recipient) else []


def deferral_reason(address: str, transports: Iterable[_Offers]) -> str | None:
    """Why `address` cannot be sent now (None when it can): it needs SMTPUTF8 and a connected
    server does not offer it. Asked once per recipient before the row is claimed."""
    if not needs_smtputf8(address):
        return None
    for transport in transports:
        if not transport.offers_smtputf8():
            return (
                f"{DEFERRAL_PREFIX} (RFC 6531) and the SMTP server "
                f"{transport.address} does not offer it; send again through a server that "
                "does (Postfix and Gmail do)"
            )
    return None


def pending_international(db, issue: str, list_id: int) -> int:
    """How many rows of `issue` still to send on `list_id` have an address that needs
    SMTPUTF8 (for the plan; people not yet queued are counted by the caller)."""
    cursor = db.conn.execute(
        "SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
        "WHERE d.issue = ? AND d.list_id = ? AND d.state IN ('queued', 'sending', 'deferred')",
        [issue, list_id],
    )
    return sum(1 for (email,) in cursor if needs_smtputf8(email))


def is_deferral(row: dict) -> bool:
    """Whether a ledger row (as `ledger.problems` yields it) waits for an SMTPUTF8 server."""
    return row.get("state") == "deferred" and str(row.get("last_reply") or "").startswith(
        DEFERRAL_PREFIX
    )


# SQLite GLOB: any character outside printable ASCII (an RFC 6531 address)
NON_ASCII_GLOB = "*[^ -~]*"


def new_international(db, issue: str, list_id: int, only: set[int] | None = None) -> int:
    """Active people of the list not yet queued for `issue` whose address needs SMTPUTF8
    (counted in SQL; `only` narrows to a segment)."""
    rows = db.execute(
        "SELECT s.id FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id "
        "WHERE sub.list_id = ? AND sub.status = 'active' AND s.email GLOB ? "
        "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.issue = ? "
        "AND d.subscriber_id = sub.subscriber_id)",
        [list_id, NON_ASCII_GLOB, issue],
    )
    return sum(1 for (sid,) in rows if only is None or sid in only)
