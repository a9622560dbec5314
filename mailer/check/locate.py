"""Trace a finding in the built email back to the section file an editor can change.

The compose templates may mark sections in the built HTML with a `data-section="03-name.md"`
attribute on the element that wraps a section, an `id="03-name"` (the file stem), or an HTML
comment `<!-- section: 03-name.md -->` before it. Without markers we search the issue's source files
for a piece of text the finding is about (an image file name, a link, a heading).
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

_COMMENT_MARKER = re.compile(r"section[:=]\s*[\"']?([\w.-]+\.md)", re.I)
SOURCE_SUFFIXES = (".md", ".markdown", ".yml", ".yaml", ".toml", ".txt")


class SectionLocator:
    """Maps elements and text of the built email to `newsletters/<slug>/NN-name.md`."""

    def __init__(self, issue_dir: Path, root: etree._Element | None, built_file: Path):
        self.issue_dir = issue_dir
        self.built_file = built_file
        self.sources: dict[str, str] = {}
        if issue_dir.is_dir():
            for path in sorted(issue_dir.iterdir()):
                if path.is_file() and path.suffix.lower() in SOURCE_SUFFIXES:
                    try:
                        self.sources[path.name] = path.read_text(encoding="utf-8")
                    except (OSError, UnicodeDecodeError):
                        continue
        self.comment_markers: list[tuple[int, str]] = []
        if root is not None:
            for comment in root.iter(etree.Comment):
                match = _COMMENT_MARKER.search(comment.text or "")
                if match and comment.sourceline:
                    self.comment_markers.append((comment.sourceline, match.group(1)))
        self.comment_markers.sort()

    def section_of(self, element: etree._Element | None) -> str | None:
        """The section file name an element belongs to, from markers in the built HTML."""
        if element is None:
            return None
        node = element
        while node is not None:
            if isinstance(node.tag, str):
                name = node.get("data-section")
                if name:
                    return Path(name).name
                ident = node.get("id") or ""
                if ident and f"{ident}.md" in self.sources:
                    return f"{ident}.md"  # the compose templates use the file stem as id
            node = node.getparent()
        line = element.sourceline or 0
        found = None
        for marker_line, name in self.comment_markers:
            if marker_line <= line:
                found = name
            else:
                break
        return found

    def find_text(self, needle: str, names: list[str] | None = None) -> tuple[str, int] | None:
        """(file name, line) of the first source file holding `needle`, if any."""
        needle = needle.strip()
        if len(needle) < 3:
            return None
        for name in names or list(self.sources):
            text = self.sources.get(name, "")
            index = text.find(needle)
            if index == -1:
                index = text.lower().find(needle.lower())
            if index != -1:
                return name, text.count("\n", 0, index) + 1
        return None

    def locate(
        self, element: etree._Element | None = None, needles: tuple[str, ...] = ()
    ) -> tuple[str, int | None]:
        """Where to report a finding: (path shown to the editor, line or None)."""
        section = self.section_of(element)
        candidates = [section] if section and section in self.sources else None
        for needle in needles:
            if not needle:
                continue
            hit = self.find_text(needle, candidates)
            if hit:
                return str(self.issue_dir / hit[0]), hit[1]
        if section:
            return str(self.issue_dir / section), None
        line = element.sourceline if element is not None else None
        return str(self.built_file), line

    def built(self, line: int | None = None) -> tuple[str, int | None]:
        """The built email itself: for problems that come from the templates."""
        return str(self.built_file), line
