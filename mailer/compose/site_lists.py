"""Lists as people read them: `lists:` in newsletter.yml gives each list key a name and a
description per language, a language of its own, and optionally a footer identity.

newsletter.yml is on both machines (the laptop that builds, the server that serves pages), so
the email footer's "why you get this" line and the public forms read the same names; the
subscriber database keeps only the keys.

    lists:
      nyhetsbrev:
        language: sv              # offered on Swedish pages only (leave out: every language)
        name: Nyhetsbrevet        # one text (in the list's language) or one per language:
        description: {sv: Fyra nummer om året ..., da: Fire numre om året ...}
        organisation: ...         # optional footer identity for this list's issues
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import IssueError
from ..locale import LANGUAGES
from .fields import plain
from .frontmatter import FrontMatter
from .sources import where

LIST_TEXT_KEYS = ("language", "name", "description")
# the footer identity a list may carry (its issues' footer, above the site's)
LIST_IDENTITY_KEYS = ("organisation", "address", "web", "email", "phone", "logo", "logo_alt")
LIST_KEYS = (*LIST_TEXT_KEYS, *LIST_IDENTITY_KEYS)


@dataclass(frozen=True)
class ListText:
    """One list's words for people: a name and description per language, and its language."""

    key: str
    language: str = ""  # "" = a list for readers of every language
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)  # raw footer keys (checked later)

    def _pick(self, texts: dict[str, str], lang: str) -> str:
        for code in (lang, self.language, *LANGUAGES):
            if texts.get(code):
                return texts[code]
        return ""

    def name(self, lang: str) -> str:
        """The name in `lang`, else in the list's language, else any; the key as a last resort."""
        return self._pick(self.names, lang) or self.key

    def description(self, lang: str) -> str:
        return self._pick(self.descriptions, lang)

    def offered_in(self, lang: str) -> bool:
        """Whether a page in `lang` offers this list (a Swedish page never the Danish lists)."""
        return not self.language or self.language == lang


def _per_language(value: Any, fm: FrontMatter, line: int, what: str, own: str) -> dict[str, str]:
    """`name: Text` (in the list's language) or `name: {sv: ..., da: ...}`."""
    if value is None:
        return {}
    if isinstance(value, dict):
        texts = {}
        for code, text in value.items():
            if str(code) not in LANGUAGES:
                raise IssueError(
                    f"{where(fm.path, line)}: {what}: language {code!r}; use {', '.join(LANGUAGES)}"
                )
            texts[str(code)] = " ".join(str(plain(text, fm.path, line, what) or "").split())
        return texts
    text = " ".join(str(plain(value, fm.path, line, what)).split())
    return {own or LANGUAGES[0]: text} if text else {}


def read_lists(fm: FrontMatter) -> dict[str, ListText]:
    """The `lists:` mapping of newsletter.yml, checked where it is written ({} without one)."""
    raw = fm.data.get("lists")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise IssueError(
            f"{where(fm.path, fm.line_of('lists'))}: lists: holds one 'KEY:' per list with "
            "its name, description and language; see docs/issue-format.md"
        )
    lists = {}
    for key, entry in raw.items():
        key = str(key)
        line = fm.sub_line("lists", key)
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise IssueError(
                f"{where(fm.path, line)}: list {key!r}: give 'name:', 'description:' and "
                "'language:' under it"
            )
        unknown = sorted(set(map(str, entry)) - set(LIST_KEYS))
        if unknown:
            raise IssueError(
                f"{where(fm.path, line)}: list {key!r}: unknown key {unknown[0]!r}; use "
                f"{', '.join(LIST_KEYS)}"
            )
        language = str(plain(entry.get("language") or "", fm.path, line, "language")).strip()
        if language and language not in LANGUAGES:
            raise IssueError(
                f"{where(fm.path, line)}: list {key!r}: language {language!r}; use one of "
                f"{', '.join(LANGUAGES)}, or leave it out for a list in every language"
            )
        lists[key] = ListText(
            key,
            language,
            _per_language(entry.get("name"), fm, line, f"list {key!r} name", language),
            _per_language(
                entry.get("description"), fm, line, f"list {key!r} description", language
            ),
            {k: entry[k] for k in LIST_IDENTITY_KEYS if k in entry},
        )
    return lists


def list_name(lists: dict[str, ListText], key: str, lang: str, fallback: str = "") -> str:
    """What a person reads for list `key` in `lang`: its name, else `fallback`, else the key."""
    known = lists.get(key)
    if known is not None and known.names:
        return known.name(lang)
    return fallback or key
