"""The last reader: the words of a report, for what neither RFC 3464 nor flufl.bounce found (a
DSN cut short, a home-made server's bounce, a webmail provider's prose). An address counts as
failed only where the line naming it (with the next two non-blank lines) carries a 4xx/5xx
code or a failure phrase, or where it is listed under a heading that says the addresses below
failed; and only in the report's own text: the returned message (its headers name our From and
the recipient's To) is never searched.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from .findings import Failure, clean, mailbox_of, status_of

ADDRESS = re.compile(r"<?([A-Za-z0-9._%+\-=']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})>?")
PERMANENT = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient|address)|does not exist|"
    r"mailbox (unavailable|not found|disabled)|address rejected|invalid (recipient|mailbox)|"
    r"not (a )?valid (recipient|mailbox)|account (has been )?disabled|recipient not found|"
    r"permanent(ly)? (error|failure|fatal)|failed permanently|could not be delivered|"
    r"undeliverable|(was not|wasn't|not) delivered|(could ?n[o']t|cannot) be found|"
    r"address not found|no longer (exists|active|valid)|addresses? failed",
    re.IGNORECASE,
)
TEMPORARY = re.compile(
    r"mailbox (is )?full|over ?quota|quota exceeded|temporar(y|ily)|try again later",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned|delivery (status|failure|failed|notification)|failure notice|"
    r"could not be delivered|not delivered|mail delivery",
    re.IGNORECASE,
)
COPY_FOLLOWS = re.compile(
    r"^\s*-*\s*(below this line is a copy|this is a copy of the message|original message|"
    r"the original message (was|is)|returned message|message headers follow|headers of the "
    r"original)",
    re.IGNORECASE | re.MULTILINE,
)
DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
WINDOW = 3  # the line naming an address and the next two non-blank ones
HEADING_END = re.compile(r"^\s*(-{3,}|={3,})")


def looks_like_bounce(msg: Message) -> bool:
    """From a mail system, a report, or a subject that says mail came back."""
    sender = " ".join(a for _n, a in getaddresses([str(msg.get("from", ""))])).lower()
    return (
        any(sender.startswith(d + "@") for d in DAEMONS)
        or msg.get_content_type() == "multipart/report"
        or bool(BOUNCE_SUBJECT.search(str(msg.get("subject", ""))))
    )


def scan(msg: Message, ignore: set[str]) -> list[Failure]:
    """Failed addresses in the report's own text parts, except those in `ignore` (the report's
    sender and our own return path)."""
    if not looks_like_bounce(msg):
        return []
    lines = [line for line in "\n".join(_own_text(msg)).splitlines() if line.strip()]
    found: dict[str, Failure] = {}
    heading = ""  # a line without an address saying the addresses listed below failed
    for index, line in enumerate(lines):
        addresses = [mailbox_of(raw) for raw in ADDRESS.findall(line)]
        if not addresses:
            if HEADING_END.match(line):
                heading = ""
            elif PERMANENT.search(line) or TEMPORARY.search(line):
                heading = line.strip()
            continue
        words = clean(" ".join(part.strip() for part in lines[index : index + WINDOW]))
        for address in addresses:
            if not address or address in ignore or address in found:
                continue
            failure = _judge(address, words) or _judge(address, f"{heading} {words}".strip())
            if failure is not None:
                found[address] = failure
    return list(found.values())


def _judge(address: str, words: str) -> Failure | None:
    status = status_of(words)
    if status.startswith("4.") or (not status and TEMPORARY.search(words)):
        return Failure(address, "soft", status or "4.0.0", words, "free-text")
    if status.startswith("5.") or (not status and PERMANENT.search(words)):
        return Failure(address, "hard", status or "5.0.0", words, "free-text")
    return None


def _own_text(msg: Message) -> list[str]:
    """The text/plain parts of the report, not descending into a returned message or its
    headers (text/rfc822-headers)."""
    texts: list[str] = []
    stack = [msg]
    while stack:
        part = stack.pop(0)
        if part.is_multipart():
            if part.get_content_maintype() != "message":
                stack.extend(p for p in part.get_payload() if isinstance(p, Message))
            continue
        if part.get_content_type() != "text/plain":
            continue
        payload = part.get_payload(decode=True) or b""
        try:
            text = payload.decode(part.get_content_charset() or "utf-8", "replace")
        except LookupError:
            text = payload.decode("utf-8", "replace")
        copy = COPY_FOLLOWS.search(text)  # a returned message pasted into the same part
        texts.append(text[: copy.start()] if copy else text)
    return texts
