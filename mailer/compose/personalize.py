"""Per-recipient values filled into a built issue: `%%name%%`-style markers, cheap substitution.

The build leaves markers such as `%%unsubscribe_url%%` in email.html and email.txt (they pass
the CSS inliner and lxml unchanged, also inside href attributes). `%%name|friend%%` falls back
to the text after `|` when the value is empty. Filling splits the template once and joins per
recipient, so sending never re-runs Markdown or the CSS inliner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from ..errors import IssueError

PLACEHOLDER_NAMES = ("name", "email", "unsubscribe_url", "preferences_url")
# a subscriber's custom field (`%%län|%%`); the same names as mailer.audience.fields.FIELD_NAME
FIELD_NAME = r"[^\W\d_][\w-]{0,39}"
# a field marker always has a fallback (`%%län|%%`); `%%other%%` is left alone as text
MARKER = re.compile(
    r"%%((?:" + "|".join(PLACEHOLDER_NAMES) + r")(?=[|%])|" + FIELD_NAME + r"(?=\|))"
    r"(?:\|([^%<>\n]{0,80}))?%%"
)
BARE_FIELD = re.compile(r"%%(" + FIELD_NAME + r")%%")


def field_markers(text: str) -> set[str]:
    """The custom-field names (not the built-in placeholders) that `text` uses as markers."""
    return {m.group(1) for m in MARKER.finditer(text)} - set(PLACEHOLDER_NAMES)


def check_field_markers(text: str, where: str) -> None:
    """A custom field may be missing for a person, so its marker needs a fallback: `%%län|%%`
    (empty) or `%%län|Sverige%%`. IssueError names the marker otherwise."""
    for match in BARE_FIELD.finditer(text):
        name = match.group(1)
        if name not in PLACEHOLDER_NAMES:
            raise IssueError(
                f"{where}: %%{name}%% is a custom field, which some people lack; write "
                f"%%{name}|%% (empty when missing) or %%{name}|text%% (text when missing)"
            )


def marker(name: str, fallback: str | None = None) -> str:
    """The marker text for placeholder `name` (what templates and Markdown write)."""
    if name not in PLACEHOLDER_NAMES:
        raise KeyError(f"unknown placeholder {name!r}; use one of {PLACEHOLDER_NAMES}")
    return f"%%{name}|{fallback}%%" if fallback else f"%%{name}%%"


class Template:
    """A built email split at its markers; `fill(values)` returns one recipient's copy.

    HTML templates escape the values (a name like `<Anna & Co>` stays text); text templates
    insert them as they are. A value missing from `values` with no fallback raises KeyError,
    so a send never goes out with an empty unsubscribe link.
    """

    __slots__ = ("_escape", "_parts", "_slots", "names", "source")

    def __init__(self, source: str, *, escape_html: bool) -> None:
        self.source = source
        self._escape = escape_html
        parts: list[str] = []
        slots: list[tuple[int, str, str | None]] = []
        position = 0
        for match in MARKER.finditer(source):
            parts.append(source[position : match.start()])
            slots.append((len(parts), match.group(1), match.group(2)))
            parts.append("")
            position = match.end()
        parts.append(source[position:])
        self._parts = parts
        self._slots = tuple(slots)
        self.names = frozenset(name for _, name, _ in slots)

    def fill(self, values: Mapping[str, str | None]) -> str:
        out = self._parts.copy()
        ready: dict[str, str] = {}
        for index, name, fallback in self._slots:
            value = ready.get(name)
            if value is None:
                if name not in values and fallback is None:
                    raise KeyError(f"no value for placeholder {name!r}")
                raw = values.get(name) or ""
                value = ready[name] = escape(raw) if self._escape else raw
            out[index] = value or (fallback or "")
        return "".join(out)


@dataclass(frozen=True)
class Attachment:
    """A file sent with every copy of the issue (the invitation's .ics with `attach_ics`)."""

    filename: str
    content_type: str  # with its parameters: 'text/calendar; charset="utf-8"; method=PUBLISH'
    data: bytes


@dataclass(frozen=True)
class BuiltIssue:
    """A built issue ready for sending: the two templates, build/meta.json, attachments."""

    html: Template
    text: Template
    meta: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()


def load_built(issue_dir: Path) -> BuiltIssue:
    """Read issue_dir/build/ (email.html, email.txt, meta.json) into templates."""
    build = Path(issue_dir) / "build"
    try:
        html = (build / "email.html").read_text(encoding="utf-8")
        text = (build / "email.txt").read_text(encoding="utf-8")
        meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
        attachments = ()
        if meta.get("attach_ics"):
            name = str(meta["attach_ics"])
            attachments = (
                Attachment(
                    f"{meta.get('slug') or Path(issue_dir).name}-{name}",
                    'text/calendar; charset="utf-8"; method=PUBLISH',
                    (build / name).read_bytes(),
                ),
            )
        attachments += tuple(
            Attachment(
                str(item["file"]),
                str(item["type"]),
                (build / "attachments" / str(item["file"])).read_bytes(),
            )
            for item in meta.get("attachments", ())
        )
    except FileNotFoundError as exc:
        raise IssueError(
            f"{exc.filename}: not built; run 'newsletter build {issue_dir}' first"
        ) from None
    return BuiltIssue(
        Template(html, escape_html=True), Template(text, escape_html=False), meta, attachments
    )


def sample_values(meta: Mapping[str, Any]) -> dict[str, str]:
    """Example values for previews: a made-up reader and links that lead nowhere harmful."""
    base = str(meta.get("base_url", "")).rstrip("/")
    return {
        "name": "Anna Andersson",
        "email": "anna.andersson@example.se",
        "unsubscribe_url": f"{base}/unsubscribe/preview",
        "preferences_url": f"{base}/preferences/preview",
    }


def neutral_values(base_url: str) -> dict[str, str]:
    """Values for the public web version: no personal data, links to the subscribe page."""
    base = base_url.rstrip("/")
    return {
        "name": "",
        "email": "",
        "unsubscribe_url": f"{base}/subscribe",
        "preferences_url": f"{base}/subscribe",
    }
