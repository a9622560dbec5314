"""SpamAssassin's verdict on a message, kept so that `send` does not score what `check` just
scored: the same bytes (the build, the settings that shape the message, the sample reader)
get the same score, and scoring takes one to five seconds."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from ..config import user_data_dir

MEMO_FILE = "spam-scores.json"
KEEP_SECONDS = 24 * 3600  # rules and their scores change with SpamAssassin updates
KEEP_ENTRIES = 50
_DATE = re.compile(rb"^Date:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*", re.M)


def memo_key(message: EmailMessage, executable: str, prefs: str) -> str:
    """The message's bytes without its Date line (the only header that changes between two
    runs on the same build), with the SpamAssassin used and its preferences."""
    data = message.as_bytes()
    separator = b"\r\n\r\n" if b"\r\n\r\n" in data else b"\n\n"
    head, sep, body = data.partition(separator)
    digest = hashlib.sha256(f"{executable}\n{prefs}\n".encode())
    digest.update(_DATE.sub(b"", head + sep) + body)
    return digest.hexdigest()


def _path() -> Path:
    return user_data_dir() / MEMO_FILE


def _load() -> dict:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recall(key: str) -> dict | None:
    """{score, rules} scored within KEEP_SECONDS for this key, else None."""
    entry = _load().get(key)
    if not isinstance(entry, dict) or time.time() - entry.get("at", 0) > KEEP_SECONDS:
        return None
    return entry


def remember(key: str, score: float, rules: list) -> None:
    """Keep a verdict (the newest KEEP_ENTRIES); a folder that cannot be written is skipped."""
    entries = _load()
    entries[key] = {"at": time.time(), "score": score, "rules": rules}
    newest = sorted(entries.items(), key=lambda item: -item[1].get("at", 0))[:KEEP_ENTRIES]
    path = _path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".spam-", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(dict(newest), file)
        os.replace(temporary, path)
    except OSError:
        return
