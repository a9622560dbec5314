"""The last reader: the words of a report that neither RFC 3464 nor flufl.bounce understood (a
DSN cut short before its delivery-status part, a home-made server's bounce). An address counts
as failed only where a line naming it (or one of the next two) carries a 4xx/5xx code or a
failure phrase, and only in the report's own text: the returned message (its headers name our
From and the recipient's To) is never searched.
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
    r"permanent(ly)? (error|failure|fatal)|could not be delivered|undeliverable",
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
WINDOW = 3  # the line naming an address and the next two


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
    lines = "\n".join(_own_text(msg)).splitlines()
    found: dict[str, Failure] = {}
    for index, line in enumerate(lines):
        for raw in ADDRESS.findall(line):
            address = mailbox_of(raw)
            if not address or address in ignore or address in found:
                continue
            words = clean(" ".join(part.strip() for part in lines[index : index + WINDOW]))
            status = status_of(words)
            if status.startswith("4.") or (not status and TEMPORARY.search(words)):
                found[address] = Failure(address, "soft", status or "4.0.0", words, "free-text")
            elif status.startswith("5.") or (not status and PERMANENT.search(words)):
                found[address] = Failure(address, "hard", status or "5.0.0", words, "free-text")
    return list(found.values())


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
