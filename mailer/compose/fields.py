"""Front matter values that must be text: lists, mappings and binary values are refused with
the file and line, instead of being printed into an email as Python ("['Örebro', ...]")."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..errors import IssueError
from .sources import where

# One address: no spaces or control characters, one @, a dotted domain (email-validator would
# add a third of the cold build time for a mailto: link the reader's mail program checks anyway).
ADDRESS = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[^\s@<>()\[\],;:\".]+$")

KIND = {list: "a list", dict: "a set of keys", bytes: "binary data", set: "a set", bool: "yes/no"}


def plain(value: object, path: Path, line: int, key: str) -> object:
    """`value` when it is text, a number or a date; otherwise an IssueError saying what it is."""
    for kind, name in KIND.items():
        if isinstance(value, kind):
            raise IssueError(
                f"{where(path, line)}: {key} is {name}, not text; write it as one line of text "
                f'(in quotes if it starts with [ or {{), e.g. {key}: "Örebro och Eskilstuna"'
            )
    if value is None or isinstance(value, str | int | float | dt.date):
        return value
    raise IssueError(f"{where(path, line)}: {key} must be plain text")


def contact_email(value: object, path: Path, line: int) -> str:
    """A contact card's address: one valid address, no line breaks (it goes into a mailto:
    link and the plain-text part, where a CR/LF would add lines of its own)."""
    text = str(plain(value, path, line, "email") or "").strip()
    if not text:
        return ""
    if any(ch in text for ch in "\r\n\x00") or any(ord(ch) < 32 for ch in text):
        raise IssueError(f"{where(path, line)}: email holds a line break; write one address")
    if not ADDRESS.match(text) or ".." in text:
        raise IssueError(
            f"{where(path, line)}: email {text!r} is not an e-mail address; write one address "
            "such as lena.berg@example.se"
        )
    return text
