"""Files sent with every copy of an issue: `attachments:` in issue.md names files in the issue
folder (a programme as PDF, say).

Why limits: every copy carries the file, base64-encoded (a third larger), so a 3 MB programme
to 2,000 people is 8 GB through the relay and into inboxes that may refuse large messages, and
phones download it on mobile data. A link to the file in the archive costs one download per
reader who wants it. `check` warns above ATTACHMENT_WARN_BYTES and refuses above
ATTACHMENT_MAX_BYTES (in all, as sent before encoding).
"""

from __future__ import annotations

import mimetypes
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import IssueError
from .frontmatter import FrontMatter
from .sources import where

ATTACHMENT_WARN_BYTES = 1_000_000
ATTACHMENT_MAX_BYTES = 10_000_000
ATTACHMENTS_DIR = "attachments"
# Types a mail client opens without surprises; anything else is refused so a stray .exe or
# .docm cannot ride along (and get the issue flagged as malware by the receiving servers).
ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".ics": "text/calendar",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}


@dataclass(frozen=True)
class IssueAttachment:
    """One file named under `attachments:`; `name` is its file name as readers see it."""

    name: str
    path: Path
    size: int
    content_type: str


def size_text(size: int) -> str:
    """A file size as readers say it: 240 kB, 1.4 MB."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} kB"
    return f"{size / 1_000_000:.1f} MB"


def content_type_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return ALLOWED_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def read_attachments(fm: FrontMatter, issue_dir: Path) -> tuple[IssueAttachment, ...]:
    """The files `attachments:` names, checked: in the issue folder, plain files, an allowed
    type, each named once. Raises IssueError naming issue.md's line and what to do."""
    value = fm.data.get("attachments")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise IssueError(
            f"{where(fm.path, fm.line_of('attachments'))}: attachments is a list of file "
            "names in the issue folder, e.g.\nattachments:\n  - program.pdf"
        )
    folder = Path(issue_dir).resolve()
    found: list[IssueAttachment] = []
    for index, item in enumerate(value):
        line = where(fm.path, fm.item_line("attachments", index))
        if not isinstance(item, str) or not item.strip():
            raise IssueError(f"{line}: give the attachment as a file name, e.g. '- program.pdf'")
        name = unicodedata.normalize("NFC", item.strip())
        path = (folder / name).resolve()
        if any(ord(c) < 32 or c == "\x7f" for c in name):
            raise IssueError(f"{line}: {name!r}: the name holds a control character; rename it")
        if path.parent != folder or name.startswith("."):
            raise IssueError(
                f"{line}: {name!r}: an attachment is a file in the issue folder itself; copy it "
                f"into {issue_dir} and name it without a folder"
            )
        if not path.is_file():
            raise IssueError(f"{line}: {name!r} not found in {issue_dir}; check the file name")
        if path.suffix.lower() not in ALLOWED_TYPES:
            raise IssueError(
                f"{line}: {name!r}: attach only {', '.join(sorted(ALLOWED_TYPES))} files; "
                "link to other files instead"
            )
        if any(a.name.casefold() == name.casefold() for a in found):
            raise IssueError(f"{line}: {name!r} is attached twice; list it once")
        size = path.stat().st_size
        if size == 0:
            raise IssueError(f"{line}: {name!r} is empty")
        found.append(IssueAttachment(name, path, size, content_type_of(name)))
    return tuple(found)


def attachment_findings(attachments: list[dict]) -> list[tuple[str, str, str]]:
    """(severity, message, advice) for `check` from meta.json's attachment list: a warning
    above ATTACHMENT_WARN_BYTES, an error above ATTACHMENT_MAX_BYTES, in all."""
    if not attachments:
        return []
    total = sum(int(a.get("size", 0)) for a in attachments)
    names = ", ".join(f"{a['file']} {a['size'] / 1e6:.1f} MB" for a in attachments)
    advice = (
        "link to the file instead: put it on the organisation's web site or leave it out of "
        "attachments: (the web version links it from the archive)"
    )
    if total > ATTACHMENT_MAX_BYTES:
        return [
            (
                "error",
                f"the attachments are {total / 1e6:.1f} MB in all ({names}); more than "
                f"{ATTACHMENT_MAX_BYTES // 1_000_000} MB per message is refused by many servers",
                advice,
            )
        ]
    if total > ATTACHMENT_WARN_BYTES:
        return [
            (
                "warning",
                f"the attachments are {total / 1e6:.1f} MB in all ({names}), sent with every "
                "copy: heavy on phones and on the relay's limits",
                advice,
            )
        ]
    return []
