"""Markdown tokens to readable plain text: underlined headings, wrapped text, aligned tables."""

from __future__ import annotations

import textwrap
from urllib.parse import unquote

from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

WIDTH = 72


def wrap(text: str, width: int = WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap paragraphs without breaking URLs or hyphenated words; keep hard line breaks."""
    lines = []
    for index, part in enumerate(text.split("\n")):
        lead = first if (first is not None and index == 0) else indent
        lines.append(
            textwrap.fill(
                " ".join(part.split()),
                width=width,
                initial_indent=lead,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or lead.rstrip()
        )
    return "\n".join(lines)


def underline(title: str, char: str = "=") -> str:
    return f"{title}\n{char * len(title)}"


def shown_url(href: str) -> str:
    """A link target as a reader types it: mailto: and tel: become the bare address or number."""
    if href.lower().startswith("mailto:"):
        return unquote(href[len("mailto:") :].split("?", 1)[0])
    if href.lower().startswith("tel:"):
        return unquote(href[len("tel:") :])
    return href


def inline_text(node: SyntaxTreeNode) -> str:
    """Text of an inline node; links become 'text (URL)' or the bare URL when they are equal."""
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "link":
            label = inline_text(child).strip()
            href = str(child.attrs.get("href", ""))
            bare = shown_url(href)
            if label in (href, bare):
                parts.append(label)
            else:
                parts.append(f"{label} ({bare})")
        elif kind == "image":
            parts.append(f"[{inline_text(child).strip()}]")
        else:
            parts.append(inline_text(child))
    return "".join(parts)


def _table(node: SyntaxTreeNode, width: int = WIDTH) -> str:
    """Aligned columns; a table too wide for that becomes one "Header: value" block per row
    (mail programs wrap long lines, and wrapped columns no longer line up)."""
    rows: list[list[str]] = []
    aligns: list[str] = []
    for section in node.children:
        for row in section.children:
            cells = []
            for cell in row.children:
                cells.append(
                    " ".join(inline_text(cell.children[0]).split()) if cell.children else ""
                )
                if section.type == "thead":
                    aligns.append(str(cell.attrs.get("style", "")))
            rows.append(cells)
    columns = max(len(r) for r in rows)
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(columns)]

    def line(cells: list[str]) -> str:
        out = []
        for i in range(columns):
            cell = cells[i] if i < len(cells) else ""
            right = i < len(aligns) and "right" in aligns[i]
            out.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    head = node.children[0].type == "thead"
    if sum(widths) + 2 * (columns - 1) > width and head and len(rows) > 1:
        return _table_as_records(rows, width)
    lines = [line(r) for r in rows]
    if head:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _table_as_records(rows: list[list[str]], width: int) -> str:
    header, body = rows[0], rows[1:]
    records = []
    for row in body:
        fields = [
            wrap(f"{name}: {value}" if name else value, width, indent="  ", first="")
            for name, value in zip(header, row, strict=False)
            if value
        ]
        records.append("\n".join(fields))
    return "\n\n".join(records)


def _block(node: SyntaxTreeNode, width: int) -> str:
    kind = node.type
    if kind == "paragraph":
        return wrap(inline_text(node.children[0]), width)
    if kind == "heading":
        title = " ".join(inline_text(node.children[0]).split())
        level = int(node.tag[1])
        return underline(title, "=" if level == 1 else "-") if level <= 2 else title
    if kind in ("bullet_list", "ordered_list"):
        start = int(node.attrs.get("start", 1)) if kind == "ordered_list" else 1
        items = []
        for number, item in enumerate(node.children, start):
            marker = f"{number}. " if kind == "ordered_list" else "- "
            body = _blocks(item.children, width - len(marker), tight=True)
            lines = body.split("\n")
            items.append(
                "\n".join(
                    [marker + lines[0]] + [(" " * len(marker) + ln).rstrip() for ln in lines[1:]]
                )
            )
        return "\n".join(items)
    if kind == "blockquote":
        inner = _blocks(node.children, width - 2)
        return "\n".join(("> " + ln).rstrip() for ln in inner.split("\n"))
    if kind in ("fence", "code_block"):
        return "\n".join("    " + ln for ln in node.content.rstrip("\n").split("\n"))
    if kind == "hr":
        return "-" * 24
    if kind == "table":
        return _table(node, width)
    return wrap(node.content, width) if node.content else ""


def _blocks(nodes: list[SyntaxTreeNode], width: int, tight: bool = False) -> str:
    parts = [text for text in (_block(n, width) for n in nodes) if text]
    return ("\n" if tight else "\n\n").join(parts)


def to_text(tokens: list[Token], width: int = WIDTH) -> str:
    """Plain text of a parsed Markdown body (no markup left; blocks separated by blank lines)."""
    return _blocks(SyntaxTreeNode(tokens).children, width)
