"""Reading one returned message: a bounce (RFC 3464 DSN or a non-standard format), a complaint
(RFC 5965 ARF), an auto-reply, or something else. Pure: bytes in, a `Report` out, no I/O.

Standard reports are read here; the non-standard bounce formats of the big servers (Exchange,
Exim, qmail, Yahoo, old Postfix...) are left to flufl.bounce, GNU Mailman's library. A report
that cannot be read (a truncated DSN, a detector that crashes) is `unreadable`, never a guess.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

import flufl.bounce

from ...store.db import utc_now

ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
BASIC = re.compile(r"\b([245])\d\d\b")
MESSAGE_ID = re.compile(r"^message-id:[ \t]*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
COMPLAINT_TYPES = ("abuse", "fraud", "other", "virus")
DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
MAX_DIAGNOSTIC = 500


@dataclass
class Failure:
    """One recipient a report is about: `kind` is hard, soft or complaint."""

    recipient: str
    kind: str
    status: str  # x.y.z for bounces, the Feedback-Type for complaints
    diagnostic: str


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

    @property
    def actionable(self) -> bool:
        return bool(self.failures)


def digest_of(raw: bytes) -> str:
    """The same hash for a report read over IMAP (CRLF) or from a file (LF)."""
    return hashlib.sha256(raw.replace(b"\r\n", b"\n").strip()).hexdigest()


def classify(raw: bytes) -> Report:
    """Classify one message given as bytes (never raises for bad input)."""
    text = raw.decode("utf-8", "replace")
    base = {"digest": digest_of(raw), "text": text}
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # the parser is lenient; this is a last resort
        return Report("unreadable", f"cannot parse the message ({exc})", **base)
    base["reported_at"] = _report_date(msg)
    if not msg.keys():
        return Report("not-bounce", "no mail headers", **base)
    try:
        report = _classify(msg)
    except Exception as exc:  # a library or a malformed part: no traceback, no guess
        report = Report("unreadable", f"cannot read the report ({type(exc).__name__}: {exc})")
    for key, value in base.items():
        setattr(report, key, value)
    return report


def _classify(msg: Message) -> Report:
    report_type = (msg.get_param("report-type", header="content-type") or "").lower()
    parts = list(msg.walk())
    types = [part.get_content_type() for part in parts]
    if report_type == "feedback-report" or "message/feedback-report" in types:
        return _arf(msg, parts)
    if report_type == "delivery-status" or "message/delivery-status" in types:
        return _dsn(msg, parts)
    if _is_auto_reply(msg):
        return Report("auto-reply", "an automatic reply (out of office or similar): ignored")
    return _non_standard(msg, parts)


# --- RFC 3464 delivery status notifications ---------------------------------------------------


def _dsn(msg: Message, parts: list[Message]) -> Report:
    status_part = next(
        (p for p in parts if p.get_content_type() == "message/delivery-status"), None
    )
    if status_part is None:
        return Report("unreadable", "a delivery report without its delivery-status part")
    blocks = _field_blocks(status_part)
    recipients = [b for b in blocks[1:] if b.get("final-recipient") or b.get("original-recipient")]
    if not recipients:
        return Report("unreadable", "a delivery report without a recipient (truncated?)")
    message_ids = _original_message_ids(msg, parts)
    failures, ignored = [], []
    for block in recipients:
        recipient = _address_field(block.get("final-recipient") or block.get("original-recipient"))
        action = (block.get("action") or "").strip().lower()
        diagnostic = _clean(block.get("diagnostic-code") or "")
        status = _status(block.get("status") or "") or _status(diagnostic)
        if not recipient or not (action or status):
            return Report("unreadable", "a delivery report whose recipient fields are cut short")
        if action in ("delivered", "relayed", "expanded") or status.startswith("2."):
            ignored.append(f"{action or status} (a success notice)")
            continue
        if action == "delayed":
            ignored.append("delayed (a warning; the server is still trying)")
            continue
        if not status:
            status = "5.0.0" if action == "failed" else ""
        if not status:
            return Report("unreadable", f"a delivery report with Action {action!r} and no Status")
        kind = "hard" if status.startswith("5.") else "soft"
        failures.append(Failure(recipient, kind, status, diagnostic or f"Action: {action}"))
    if not failures:
        return Report("ignored", "; ".join(ignored), message_ids=message_ids)
    return Report("dsn", failures=failures, message_ids=message_ids)


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a message/delivery-status (or feedback-report) part, lower-cased
    names; the email package gives sub-messages, or a string when it could not split them."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                fields = {k.lower(): str(v) for k, v in block.items()}
                if block.defects and not fields:
                    continue
                blocks.append(fields)
        if blocks:
            return blocks
    if isinstance(payload, list):
        payload = "\n\n".join(p.as_string() if isinstance(p, Message) else str(p) for p in payload)
    text = payload if isinstance(payload, str) else ""
    if part.get("content-transfer-encoding", "").lower() in ("base64", "quoted-printable"):
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.strip()):
        if chunk.strip():
            parsed = HeaderParser(policy=email.policy.compat32).parsestr(chunk.strip() + "\n")
            blocks.append({k.lower(): str(v) for k, v in parsed.items()})
    return blocks


def _status(text: str) -> str:
    """The x.y.z status in a Status field or a diagnostic; a bare 5xx/4xx code gives x.0.0."""
    match = ENHANCED.search(text)
    if match:
        return ".".join(match.groups())
    match = BASIC.search(text)
    return f"{match.group(1)}.0.0" if match and match.group(1) in "45" else ""


def _address_field(value: str | None) -> str:
    """`rfc822; user@example.org` -> `user@example.org`."""
    if not value:
        return ""
    _kind, _, address = value.partition(";")
    address = (address or value).strip().strip("<>").strip()
    return address if "@" in address else ""


# --- RFC 5965 abuse reports -------------------------------------------------------------------


def _arf(msg: Message, parts: list[Message]) -> Report:
    feedback = next((p for p in parts if p.get_content_type() == "message/feedback-report"), None)
    if feedback is None:
        return Report("unreadable", "a feedback report without its feedback-report part")
    fields: dict[str, str] = {}
    for block in _field_blocks(feedback):
        fields.update(block)
    kind = (fields.get("feedback-type") or "").strip().lower()
    if not kind:
        return Report("unreadable", "a feedback report without Feedback-Type (truncated?)")
    message_ids = _original_message_ids(msg, parts)
    if kind not in COMPLAINT_TYPES:
        return Report("ignored", f"a feedback report of type {kind!r}", message_ids=message_ids)
    recipient = _address_field(fields.get("original-rcpt-to") or fields.get("removal-recipient"))
    if not recipient:
        original = _original_headers(parts)
        if original is not None:
            addresses = getaddresses(original.get_all("to", []))
            recipient = next((a for _n, a in addresses if "@" in a), "")
    agent = _clean(fields.get("user-agent") or fields.get("reporting-mta") or "")
    diagnostic = f"complaint (Feedback-Type: {kind})" + (f" from {agent}" if agent else "")
    return Report(
        "arf", failures=[Failure(recipient, "complaint", kind, diagnostic)], message_ids=message_ids
    )


# --- the original message inside a report -----------------------------------------------------


def _original_headers(parts: list[Message]) -> Message | None:
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


def _original_message_ids(msg: Message, parts: list[Message]) -> list[str]:
    original = _original_headers(parts)
    ids = []
    if original is not None and original.get("message-id"):
        ids.append(str(original.get("message-id")).strip())
    return [i for i in ids if i and i != str(msg.get("message-id", "")).strip()]


# --- everything else ----------------------------------------------------------------------------


def _is_auto_reply(msg: Message) -> bool:
    """RFC 3834 auto-replies (and the older vendor headers), unless the message comes from a
    mail system and names failed recipients: Exim marks its bounces auto-replied too."""
    if msg.get("x-failed-recipients"):
        return False
    sender = " ".join(a for _n, a in getaddresses(msg.get_all("from", []))).lower()
    if any(sender.startswith(d + "@") for d in DAEMONS):
        return False
    submitted = str(msg.get("auto-submitted", "no")).strip().lower()
    precedence = str(msg.get("precedence", "")).strip().lower()
    return (
        submitted != "no"
        or precedence == "auto_reply"
        or any(msg.get(h) for h in ("x-autoreply", "x-autorespond", "x-autoresponder"))
    )


def _non_standard(msg: Message, parts: list[Message]) -> Report:
    temporary, permanent = flufl.bounce.all_failures(msg)
    if not temporary and not permanent:
        return Report("not-bounce", "not a bounce or a complaint")
    body = _body_text(parts)
    failures = []
    for kind, addresses in (("hard", permanent), ("soft", temporary - permanent)):
        for raw in sorted(addresses):
            address = raw.decode("ascii", "replace")
            status, diagnostic = _near(body, address, "5" if kind == "hard" else "4")
            failures.append(Failure(address, kind, status, diagnostic))
    own = str(msg.get("message-id", "")).strip()
    ids = [i for i in MESSAGE_ID.findall(body) if i != own]
    original = _original_headers(parts)
    if original is not None and original.get("message-id"):
        ids.insert(0, str(original.get("message-id")).strip())
    return Report("bounce", failures=failures, message_ids=list(dict.fromkeys(ids)))


def _body_text(parts: list[Message]) -> str:
    texts = []
    for part in parts:
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True) or b""
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts)


def _near(body: str, address: str, klass: str) -> tuple[str, str]:
    """The status and the server's words about `address` in a free-text bounce: the lines
    from one naming the address to the next blank line (the first such passage with a status
    code of the right class, else the last one: a quoted To: line comes before the reason)."""
    lines = body.splitlines()
    passages = []
    for index, line in enumerate(lines):
        if address.lower() in line.lower():
            window: list[str] = []
            for following in lines[index : index + 6]:
                if window and not following.strip():
                    break
                window.append(following.strip())
            passages.append(_clean(" ".join(window)))
    for words in passages:
        status = _status(words)
        if status and status[0] == klass:
            return status, words
    if passages:
        return f"{klass}.0.0", passages[-1]
    return f"{klass}.0.0", "a non-standard bounce (read by flufl.bounce)"


def _clean(text: str) -> str:
    """One line, no control characters, at most MAX_DIAGNOSTIC characters."""
    return " ".join(str(text).split())[:MAX_DIAGNOSTIC]


def _report_date(msg: Message) -> str:
    """The report's Date as UTC text in the database's format; now when missing or broken."""
    try:
        moment = parsedate_to_datetime(str(msg.get("date", "")))
    except (TypeError, ValueError, IndexError):
        return utc_now()
    if moment is None:
        return utc_now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
