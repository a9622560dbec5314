"""Reading one returned message: a bounce (RFC 3464 DSN or a non-standard format), a complaint
(RFC 5965 ARF), an auto-reply, or something else. Pure: bytes in, a `Report` out, no I/O.

Every reader is asked and the best answer kept: the standard reader first (RFC 3464, RFC
5965); GNU Mailman's flufl.bounce (`freetext`) whenever the standard reader fails, finds
nothing or was cut short (recipient fields missing, no delivery-status part, a free-text
bounce); the report's own words last (`textscan`). A later reader adds the failed recipients
the earlier ones missed, never one the DSN calls delayed. `Report.reader` says which reader
decided, each `Failure.reader` who found it. A report no reader understands is `unreadable`
(with the standard reader's reason), never a guess.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from ...store.db import utc_now
from .findings import MESSAGE_ID, Failure, Report, clean, mailbox_of, original_headers, status_of
from .freetext import non_standard
from .textscan import ADDRESS, scan

COMPLAINT_TYPES = ("abuse", "fraud", "other", "virus")
DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")


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
        report = _classify(msg, text)
    except Exception as exc:  # a library or a malformed part: no traceback, no guess
        report = Report("unreadable", f"cannot read the report ({type(exc).__name__}: {exc})")
    for key, value in base.items():
        setattr(report, key, value)
    return report


def _classify(msg: Message, text: str) -> Report:
    report_type = (msg.get_param("report-type", header="content-type") or "").lower()
    parts = list(msg.walk())
    types = [part.get_content_type() for part in parts]
    if report_type == "feedback-report" or "message/feedback-report" in types:
        return _arf(msg, parts)
    standard = None
    if report_type == "delivery-status" or "message/delivery-status" in types:
        standard = _guarded(_dsn, msg, parts)
        if standard.verdict == "ignored":  # delay warnings, success notices: decided
            return standard
    elif _is_auto_reply(msg):
        return Report("auto-reply", "an automatic reply (out of office or similar): ignored")
    if standard is not None and standard.failures and not standard.partial:
        return standard  # every recipient block read: nothing for the other readers to add
    flufl = _guarded(non_standard, msg, parts, text)
    found = flufl.failures or (standard is not None and standard.failures)
    words = Report("bounce", reader="free-text")
    if not found or (standard is not None and standard.partial):
        words.failures = scan(msg, _reporters(msg))
    settled = standard.settled if standard is not None else []
    for report in (standard, flufl, words):
        if report is None:
            continue
        report.failures = [f for f in report.failures if f.recipient not in settled]
        if report.failures:
            report.message_ids = _message_ids(msg, parts, standard, flufl)
            return _own_words(_merged(report, flufl, words, settled=settled))
    return standard if standard is not None else flufl


def _own_words(report: Report) -> Report:
    """Each failure's diagnostic without the other recipients' addresses: it is stored with
    that person's record (and erased with it), so it must not quote someone else."""
    others = {f.recipient for f in report.failures if f.recipient}
    if len(others) > 1:
        for failure in report.failures:
            for address in others - {failure.recipient}:
                failure.diagnostic = re.sub(
                    re.escape(address), "[another recipient]", failure.diagnostic, flags=re.I
                )
    return report


def _guarded(reader, *args) -> Report:
    """One reader's answer; a crash (a library or a malformed part) is `unreadable`, so that
    the next reader is still asked. No traceback, no guess."""
    try:
        return reader(*args)
    except Exception as exc:
        return Report("unreadable", f"cannot read the report ({type(exc).__name__}: {exc})")


def _merged(best: Report, *others: Report, settled: list[str]) -> Report:
    """The first reader's answer, plus failed recipients only a later reader found, except
    those the DSN settled (a delay warning or a success for that recipient)."""
    known = {f.recipient for f in best.failures} | set(settled)
    for other in others:
        for failure in other.failures:
            if failure.recipient not in known:
                best.failures.append(failure)
                known.add(failure.recipient)
    return best


def _message_ids(msg: Message, parts: list[Message], *reports: Report | None) -> list[str]:
    """The original Message-IDs the readers found; else those in the returned message's
    headers or quoted in the report's text."""
    ids = [i for report in reports if report is not None for i in report.message_ids]
    if not ids:
        ids = _original_message_ids(msg, parts)
        own = str(msg.get("message-id", "")).strip()
        for part in parts:
            if part.get_content_type() == "text/plain":
                body = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
                ids += [i for i in MESSAGE_ID.findall(body) if i != own]
    return list(dict.fromkeys(ids))


def _reporters(msg: Message) -> set[str]:
    """Addresses in the report's own headers: the reporting system and our return path are
    never failed recipients."""
    fields = " ".join(str(msg.get(name, "")) for name in ("from", "to", "return-path"))
    return {mailbox_of(a) for a in ADDRESS.findall(fields)} - {""}


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
    failures, ignored, damaged, settled = [], [], [], []
    for block in recipients:
        recipient = _address_field(block.get("final-recipient") or block.get("original-recipient"))
        action = (block.get("action") or "").strip().lower()
        diagnostic = clean(block.get("diagnostic-code") or "")
        status = status_of(block.get("status") or "") or status_of(diagnostic)
        if not recipient or not (action or status):
            damaged.append("a recipient whose fields are cut short")
            continue
        if action in ("delivered", "relayed", "expanded") or status.startswith("2."):
            ignored.append(f"{action or status} (a success notice)")
            settled.append(recipient)
            continue
        if action == "delayed":
            ignored.append("delayed (a warning; the server is still trying)")
            settled.append(recipient)
            continue
        if not status:
            status = "5.0.0" if action == "failed" else ""
        if not status:
            damaged.append(f"Action {action!r} and no Status")
            continue
        kind = "hard" if status.startswith("5.") else "soft"
        failures.append(
            Failure(recipient, kind, status, diagnostic or f"Action: {action}", "rfc3464")
        )
    if failures:
        return Report(
            "dsn",
            failures=failures,
            message_ids=message_ids,
            reader="rfc3464",
            settled=settled,
            partial=bool(damaged),
        )
    if damaged:
        return Report(
            "unreadable", f"a delivery report with {damaged[0]}", settled=settled, partial=True
        )
    return Report(
        "ignored", "; ".join(ignored), message_ids=message_ids, reader="rfc3464", settled=settled
    )


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


def _address_field(value: str | None) -> str:
    """`rfc822; User@Example.org` -> `user@example.org`."""
    return mailbox_of(value or "")


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
        original = original_headers(parts)
        if original is not None:
            addresses = getaddresses(original.get_all("to", []))
            recipient = next((mailbox_of(a) for _n, a in addresses if "@" in a), "")
    agent = clean(fields.get("user-agent") or fields.get("reporting-mta") or "")
    diagnostic = f"complaint (Feedback-Type: {kind})" + (f" from {agent}" if agent else "")
    failure = Failure(recipient, "complaint", kind, diagnostic, "rfc5965")
    return Report("arf", failures=[failure], message_ids=message_ids, reader="rfc5965")


# --- the original message inside a report -----------------------------------------------------


def _original_message_ids(msg: Message, parts: list[Message]) -> list[str]:
    original = original_headers(parts)
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
