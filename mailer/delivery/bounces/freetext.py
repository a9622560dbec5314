"""Free-text bounces (Exchange, Exim, qmail, Yahoo, old Postfix...): which addresses failed is
left to flufl.bounce, GNU Mailman's detectors; this module adds the status and the server's
words about each address when the text has them, and the original Message-ID."""

from __future__ import annotations

from email.message import Message

import flufl.bounce

from .findings import MESSAGE_ID, Failure, Report, clean, original_headers, status_of


def non_standard(msg: Message, parts: list[Message]) -> Report:
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
    original = original_headers(parts)
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
            passages.append(clean(" ".join(window)))
    for words in passages:
        status = status_of(words)
        if status and status[0] == klass:
            return status, words
    if passages:
        return f"{klass}.0.0", passages[-1]
    return f"{klass}.0.0", "a non-standard bounce (read by flufl.bounce)"
