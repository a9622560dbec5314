"""The list keys of a section's front matter: `contacts:` (people) and `partners:` (logos).

Each item is checked where it is written, so a mistake names the file and the item's line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import IssueError
from .frontmatter import FrontMatter
from .sources import Image, ImageSet, check_url, where

CONTACT_KEYS = ("name", "role", "organisation", "phone", "email", "web", "image", "image_alt")
PARTNER_KEYS = ("image", "alt", "url")
PARTNERS_MIN, PARTNERS_MAX = 2, 4
LANG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")


def _items(fm: FrontMatter, key: str, example: str) -> list[tuple[int, dict[str, Any]]]:
    items = fm.data.get(key)
    if not isinstance(items, list) or not items:
        raise IssueError(
            f"{where(fm.path, fm.line_of(key))}: {key} must be a list of '- {example}' items"
        )
    result = []
    for index, item in enumerate(items):
        line = fm.item_line(key, index)
        if not isinstance(item, dict):
            raise IssueError(f"{where(fm.path, line)}: each {key} item is '- {example}'")
        result.append((line, item))
    return result


def _text(item: dict[str, Any], key: str, path: Path, line: int) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise IssueError(f"{where(path, line)}: {key} must be plain text")
    return str(value).strip()


def _reject_unknown(item: dict[str, Any], allowed: tuple[str, ...], path: Path, line: int):
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise IssueError(
            f"{where(path, line)}: unknown key {unknown[0]!r}; use {', '.join(allowed)}"
        )


def read_contacts(fm: FrontMatter, images: ImageSet) -> list[dict[str, Any]]:
    """`contacts:` items: name (required), role, organisation, phone, email, web, photo."""
    contacts = []
    for line, item in _items(fm, "contacts", "name: ..., email: ..."):
        _reject_unknown(item, CONTACT_KEYS, fm.path, line)
        contact: dict[str, Any] = {k: _text(item, k, fm.path, line) for k in CONTACT_KEYS}
        if not contact["name"]:
            raise IssueError(f"{where(fm.path, line)}: each contact needs a name")
        if contact["web"]:
            contact["web"] = check_url(contact["web"], fm.path, line, "web")
        contact["photo"] = None
        if contact["image"]:
            if not contact["image_alt"]:
                raise IssueError(
                    f"{where(fm.path, line)}: image needs image_alt, a short text describing "
                    "the picture for people who cannot see it"
                )
            contact["photo"] = images.add(fm.path.parent, contact["image"], fm.path, line, "image")
        contacts.append(contact)
    return contacts


def read_partners(fm: FrontMatter, images: ImageSet) -> list[dict[str, Any]]:
    """`partners:` items: image and alt (required), url (optional): 2 to 4 logos in a row."""
    entries = _items(fm, "partners", "image: images/logo.png, alt: ...")
    if not PARTNERS_MIN <= len(entries) <= PARTNERS_MAX:
        raise IssueError(
            f"{where(fm.path, fm.line_of('partners'))}: partners holds {PARTNERS_MIN} to "
            f"{PARTNERS_MAX} logos (a row); found {len(entries)}: split them into two sections"
        )
    partners = []
    for line, item in entries:
        _reject_unknown(item, PARTNER_KEYS, fm.path, line)
        partner: dict[str, Any] = {k: _text(item, k, fm.path, line) for k in PARTNER_KEYS}
        if not partner["image"] or not partner["alt"]:
            raise IssueError(
                f"{where(fm.path, line)}: each partner needs image and alt (the partner's name, "
                "read aloud when the logo is not shown)"
            )
        if partner["url"]:
            partner["url"] = check_url(partner["url"], fm.path, line, "url")
        logo: Image = images.add(fm.path.parent, partner["image"], fm.path, line, "image")
        partner["logo"] = logo
        partners.append(partner)
    return partners


def check_lang(fm: FrontMatter) -> str:
    """The `lang:` of a small-print block: a language tag such as en, sv or en-GB."""
    value = str(fm.data.get("lang") or "").strip()
    if value and not LANG.match(value):
        raise IssueError(
            f"{where(fm.path, fm.line_of('lang'))}: lang {value!r} is not a language tag; "
            "write e.g. en, sv, da or en-GB"
        )
    return value
