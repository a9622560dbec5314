"""Free-text bounces (Exchange, Exim, qmail, Yahoo, old Postfix...): which addresses failed is
left to flufl.bounce, GNU Mailman's detectors; this module adds the status and the server's
words about each address when the text has them, and the original Message-ID."""

from __future__ import annotations

import email
import email.policy
import logging
from email.message import Message
from email.utils import getaddresses

import flufl.bounce

from .findings import (
    MESSAGE_ID,
    Failure,
    Report,
    clean,
    mailbox_of,
    original_headers,
    status_of,
)

# flufl.bounce logs a detector's crash with its traceback before re-raising it; classify turns
# the crash into "unreadable", and the person at the terminal should not see a traceback
_log = logging.getLogger("flufl.bounce")
_log.addHandler(logging.NullHandler())
_log.propagate = False


def non_standard(msg: Message, parts: list[Message], text: str) -> Report:
    """Ask flufl.bounce which addresses failed. It is given the message parsed from text:
    parsed from bytes, a header with 8-bit characters is a `Header` object, on which some of
    its detectors crash (they call str methods on every From)."""
    readable = email.message_from_string(text, policy=email.policy.compat32)
    if not getaddresses([str(readable.get("from", ""))]):
        del readable["from"]  # missing or garbled: a detector takes the first address blindly
        readable["From"] = "<>"
    temporary, permanent = flufl.bounce.all_failures(readable)
    # flufl.bounce answers bytes, in the case, brackets and `rfc822;` prefix the report had
    hard = {mailbox_of(raw) for raw in permanent} - {""}
    soft = {mailbox_of(raw) for raw in temporary} - {""} - hard
    if not hard and not soft:
        return Report("not-bounce", "not a bounce or a complaint")
    body = _body_text(parts)
    failures = []
    for kind, addresses in (("hard", hard), ("soft", soft)):
        for address in sorted(addresses):
            status, diagnostic = _near(body, address, "5" if kind == "hard" else "4")
            failures.append(Failure(address, kind, status, diagnostic, "flufl.bounce"))
    own = str(msg.get("message-id", "")).strip()
    ids = [i for i in MESSAGE_ID.findall(body) if i != own]
    original = original_headers(parts)
    if original is not None and original.get("message-id"):
        ids.insert(0, str(original.get("message-id")).strip())
    return Report(
        "bounce",
        failures=failures,
        message_ids=list(dict.fromkeys(ids)),
        reader="flufl.bounce",
    )


def _body_text(parts: list[Message]) -> str:
    texts = []
    for part in parts:
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True) or b""
            try:
                texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
            except LookupError:  # a charset Python does not know
                texts.append(payload.decode("utf-8", "replace"))
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
            passages.append(clean(" ".join(window)))
    for words in passages:
        status = status_of(words)
        if status and status[0] == klass:
            return status, words
    if passages:
        return f"{klass}.0.0", passages[-1]
    return f"{klass}.0.0", "a non-standard bounce (read by flufl.bounce)"
