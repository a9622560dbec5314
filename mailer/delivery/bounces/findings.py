"""What reading a report finds (`Report`, `Failure`), the ledger row it turns out to be about
(`Match`), and the helpers the readers share (`classify`, `freetext`, `textscan`)."""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr

ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
BASIC = re.compile(r"\b([245])\d\d\b")
MESSAGE_ID = re.compile(r"^message-id:[ \t]*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
MAX_DIAGNOSTIC = 500
# The readers, in the order they are asked: RFC 3464 delivery reports and RFC 5965 complaints,
# GNU Mailman's flufl.bounce, then the words of the report (`textscan`).
READERS = ("rfc3464", "rfc5965", "flufl.bounce", "free-text")
ADDRESS_TYPES = ("rfc822", "utf-8", "x-unix", "unknown")


@dataclass
class Failure:
    """One recipient a report is about: `kind` is hard, soft or complaint."""

    recipient: str
    kind: str
    status: str  # x.y.z for bounces, the Feedback-Type for complaints
    diagnostic: str
    reader: str = ""  # which reader found it (see READERS)


@dataclass
class Report:
    """What one message turned out to be."""

    verdict: str  # dsn | arf | bounce | auto-reply | ignored | not-bounce | unreadable
    reason: str = ""
    failures: list[Failure] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # of the original message
    reported_at: str = ""
    digest: str = ""
    text: str = ""  # the message as text, searched for VERP tokens
    reader: str = ""  # the reader whose answer was kept (see READERS); "" when none found any
    settled: list[str] = field(default_factory=list)  # read as delayed or delivered: no failure
    partial: bool = False  # some recipient fields could not be read: ask the other readers too

    @property
    def actionable(self) -> bool:
        return bool(self.failures)


@dataclass
class Match:
    """The ledger row a report is about."""

    delivery_id: int
    subscriber_id: int
    list_id: int
    list_name: str
    issue: str
    email: str
    matched_by: str  # token | message-id | address
    failure: Failure
    verified: bool = True  # False: matched by address while VERP is on (see the module doc)


def status_of(text: str) -> str:
    """The x.y.z status in a Status field or a diagnostic; a bare 5xx/4xx code gives x.0.0."""
    match = ENHANCED.search(text)
    if match:
        return ".".join(match.groups())
    match = BASIC.search(text)
    return f"{match.group(1)}.0.0" if match and match.group(1) in "45" else ""


def original_headers(parts: list[Message]) -> Message | None:
    for part in parts:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if ctype in ("text/rfc822-headers", "text/global-headers"):
            body = part.get_payload(decode=True) or b""
            return HeaderParser(policy=email.policy.compat32).parsestr(
                body.decode("utf-8", "replace")
            )
    return None


def clean(text: str) -> str:
    """One line, no control characters, at most MAX_DIAGNOSTIC characters."""
    return " ".join(str(text).split())[:MAX_DIAGNOSTIC]


def mailbox_of(value: str | bytes) -> str:
    """The bare lower-cased address in what a reader returned: bytes (flufl.bounce), an
    `rfc822;` (or `utf-8;`) prefix, angle brackets, quotes, a display name or trailing
    punctuation; "" when there is no address in it."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip()
    kind, semicolon, rest = text.partition(";")
    if semicolon and kind.strip().lower() in ADDRESS_TYPES:
        text = rest.strip()
    if "<" in text:
        text = parseaddr(text)[1] or text
    text = text.strip().strip("<>\"'").strip().rstrip(".,:;)").lstrip("(").strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in text):
        return ""
    if not domain.isascii():  # stored in its ASCII form (IDNA), as subscribers are
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    return f"{local}@{domain}".lower()
