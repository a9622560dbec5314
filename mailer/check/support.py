"""Client support: features the email uses that a major client lacks, per caniemail.com data.

Only "not supported" becomes a warning, grouped per client (and per section file when a
feature comes from a section), so the report stays short; partial support goes into the
JSON facts. Known, deliberate patterns are not reported: declarations inside @media are
enhancements, dark-mode media queries are an enhancement by design, and `max-width` plus
media queries are covered in Outlook on Windows when the template has `<!--[if mso]>` ghost tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .caniemail import data_dir, load_features
from .context import CheckContext
from .features import (
    element_features,
    inline_style_features,
    property_features,
    stylesheet_features,
)
from .report import Finding, Report


@dataclass(frozen=True)
class Client:
    name: str
    family: str
    platforms: tuple[str, ...]
    since: str = ""  # consider every tested version from this one on; else the newest only


CLIENTS = (
    Client("Gmail", "gmail", ("desktop-webmail", "ios", "android")),
    Client("Outlook Windows", "outlook", ("windows",), since="2016"),
    Client("Apple Mail", "apple-mail", ("macos", "ios")),
    Client("Outlook.com", "outlook", ("outlook-com",)),
    Client("Yahoo", "yahoo", ("desktop-webmail", "ios", "android")),
)
RANK = {"n": 0, "a": 1, "u": 2, "y": 3}
ENHANCEMENTS = {"css-at-media-prefers-color-scheme", "css-at-media-prefers-reduced-motion"}
GHOST_TABLE = re.compile(r"<!--\[if [^\]]*mso[^\]]*\]>(?:(?!<!\[endif\]).)*?<table", re.I | re.S)
COVERED_BY_GHOST_TABLES = {"css-max-width", "css-at-media", "css-min-width"}
# What the bundled templates use on purpose, and what a client without it shows instead. Used
# by the templates alone, these are notes, not warnings: a warning on every issue, about
# nothing the editor can change, teaches editors to stop reading warnings.
TEMPLATE_FALLBACKS = {
    "css-border-radius": "buttons and boxes get square corners",
    "css-white-space": "a top-bar link may break over two lines",
    "css-height": "the accent line and spacers may grow with their text, not shrink",
    "css-word-break": "a word too long for a phone's line may widen the email",
}


def client_support(feature: dict, client: Client) -> tuple[str, list[str]]:
    """('y'|'a'|'n'|'u', note texts) for a client: its worst platform, newest versions."""
    platforms = feature.get("stats", {}).get(client.family, {})
    worst, notes = "y", []
    tested = False
    for platform in client.platforms:
        versions = platforms.get(platform) or {}
        if not versions:
            continue
        tested = True
        items = list(versions.items())
        chosen = [v for k, v in items if k >= client.since] if client.since else []
        for value in chosen or [items[-1][1]]:
            code, *refs = value.split()
            code = code if code in RANK else "u"
            if RANK[code] < RANK[worst]:
                worst = code
            for ref in refs:
                note = (feature.get("notes_by_num") or {}).get(ref.lstrip("#"))
                if note and note not in notes:
                    notes.append(note)
    return (worst if tested else "u"), notes


def _short(note: str) -> str:
    """A caniemail note's first sentence, Markdown links reduced to their text."""
    note = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", note).replace("`", "")
    sentences = re.split(r"(?<=\.)\s+", note)
    short = sentences[0]
    if len(short) < 20 and len(sentences) > 1:  # "Buggy." says little on its own
        short += " " + sentences[1]
    return short


def _hidden(element) -> bool:
    """Hidden with display:none (the preheader): its other styles never show anywhere."""
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style


def used_features(context: CheckContext, known: dict[str, dict]) -> dict[str, set[str]]:
    """slug -> the section files (or the built email) where the email uses it."""
    properties = property_features(known)
    used: dict[str, set[str]] = {}
    built, _ = context.locator.built()
    for style in context.style_blocks():
        for slug in stylesheet_features(style.text or "", properties):
            used.setdefault(slug, set()).add(built)

    def visit(element) -> None:
        if not isinstance(element.tag, str):
            return
        if _hidden(element):
            used.setdefault("css-display-none", set()).add(built)
            return
        # Inline styles come from the template's CSS (the inliner): report them on the built
        # file. Elements and attributes may come from a section's Markdown: name the section.
        for slug in inline_style_features(element, properties):
            used.setdefault(slug, set()).add(built)
        slugs = set(element_features(element))
        if slugs:
            section = context.locator.section_of(element)
            location = str(context.issue_dir / section) if section else built
            for slug in slugs:
                used.setdefault(slug, set()).add(location)
        for child in element:
            visit(child)

    visit(context.root)
    return {slug: places for slug, places in used.items() if slug in known}


def check_support(context: CheckContext, report: Report) -> None:
    known = load_features()
    used = used_features(context, known)
    built, _ = context.locator.built()
    ghost_tables = bool(GHOST_TABLE.search(context.html))
    # client -> feature title -> (places, notes)
    missing: dict[str, dict[str, tuple[set[str], list[str]]]] = {}
    partial: dict[str, set[str]] = {}
    slugs: dict[str, str] = {}  # feature title -> caniemail slug
    for slug, places in sorted(used.items()):
        feature = known[slug]
        title = feature.get("title") or slug
        slugs[title] = slug
        for client in CLIENTS:
            if slug in ENHANCEMENTS:
                continue
            covered = ghost_tables and slug in COVERED_BY_GHOST_TABLES
            if client.name == "Outlook Windows" and covered:
                continue
            code, notes = client_support(feature, client)
            if code == "n":
                missing.setdefault(client.name, {})[title] = (places, notes)
            elif code == "a":
                partial.setdefault(client.name, set()).add(title)
    report.facts["client_support"] = {
        "data": f"caniemail.com, npm package caniemail ({data_dir()})",
        "features_used": sorted(used),
        "partial": {name: sorted(titles) for name, titles in partial.items()},
        "unsupported": {
            name: {title: sorted(places) for title, (places, _) in features.items()}
            for name, features in missing.items()
        },
    }
    for client_name, features in missing.items():
        fallbacks = {
            title: TEMPLATE_FALLBACKS[slugs[title]]
            for title, (places, _) in features.items()
            if slugs[title] in TEMPLATE_FALLBACKS and places == {built}
        }
        if fallbacks:
            report.add(
                Finding(
                    "note",
                    "support",
                    "client-fallback",
                    f"{client_name} ignores "
                    + "; ".join(f"{title} ({what})" for title, what in sorted(fallbacks.items())),
                    "deliberate in the templates; nothing to do",
                    built,
                )
            )
        features = {t: v for t, v in features.items() if t not in fallbacks}
        if not features:
            continue
        all_places = set().union(*(places for places, _ in features.values()))
        described = []
        for title, (places, _notes) in sorted(features.items()):
            sections = sorted(Path(p).name for p in places if p != built)
            described.append(f"{title} (in {', '.join(sections)})" if sections else title)
        notes = [f"{title}: {_short(n[0])}" for title, (_, n) in sorted(features.items()) if n]
        location = next(iter(all_places)) if len(all_places) == 1 else built
        report.add(
            Finding(
                "warning",
                "support",
                "client-unsupported",
                f"{client_name} does not support: {'; '.join(described)}",
                " ".join(notes[:3])
                + (" " if notes else "")
                + "Check that the email still reads well there, or use a supported alternative "
                "(see caniemail.com).",
                location,
            )
        )
