"""Accessibility checks: heading order, text contrast (WCAG AA), link text, table headers."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .colors import RGB, color_in, contrast_ratio, hex_of, parse_color
from .context import CheckContext
from .css import parse_declarations
from .links import link_text
from .report import Finding, Report
from .tables import has_headers, looks_like_data

AA_NORMAL, AA_LARGE = 4.5, 3.0
# Link texts that mean nothing out of context, in the languages we write in.
VAGUE_LINK_TEXT = {
    "here", "click", "more", "read more", "learn more", "more info", "link", "this link", "this",
    "här", "mer", "läs mer", "länk", "denna länk", "klicka", "mer info", "läs mera",
    "her", "mere", "læs mere", "klik", "mere info", "dette link",
}  # fmt: skip
HEADING = re.compile(r"h([1-6])")
SKIP_TAGS = ("style", "script", "head", "title")


def check_accessibility(context: CheckContext, report: Report) -> None:
    _check_headings(context, report)
    _check_contrast(context, report)
    _check_link_text(context, report)
    _check_data_tables(context, report)


def _check_headings(context: CheckContext, report: Report) -> None:
    previous = 0
    for element in context.body().iter("h1", "h2", "h3", "h4", "h5", "h6"):
        level = int(HEADING.fullmatch(element.tag).group(1))
        text = " ".join((element.text_content() or "").split())
        location, line = context.locator.locate(element, needles=(text,))
        if not text and not any(img.get("alt") for img in element.iter("img")):
            report.add(
                Finding(
                    "warning",
                    "accessibility",
                    "heading-empty",
                    f"an empty <h{level}>",
                    "remove the empty heading or give it text",
                    location,
                    line,
                )
            )
        if previous and level > previous + 1:
            report.add(
                Finding(
                    "warning",
                    "accessibility",
                    "heading-order",
                    f"heading {text!r} jumps from h{previous} to h{level}: screen-reader users "
                    "navigate by heading levels",
                    # Markdown headings sit one level below the h1: "#" is h2
                    f"use {'#' * previous} (h{previous + 1}) here, or add the missing level",
                    location,
                    line,
                )
            )
        previous = level


@dataclass(frozen=True)
class _Style:
    color: RGB = (0.0, 0.0, 0.0)
    background: RGB = (255.0, 255.0, 255.0)
    font_px: float = 16.0
    bold: bool = False
    explicit: bool = False  # a colour was set somewhere above: defaults alone are fine
    hidden: bool = False


def _font_px(value: str, inherited: float) -> float:
    match = re.fullmatch(r"([\d.]+)(px|pt|em|rem|%)?", value.strip().lower())
    if not match:
        return inherited
    number, unit = float(match.group(1)), match.group(2) or "px"
    factor = {"px": 1.0, "pt": 4 / 3, "em": inherited, "rem": 16.0, "%": inherited / 100}
    return number * factor[unit]


def _styled(element, parent: _Style) -> _Style:
    style = parent
    bgcolor = element.get("bgcolor")
    if bgcolor and (color := parse_color(bgcolor, style.background)):
        style = replace(style, background=color, explicit=True)
    if element.tag in ("b", "strong", "th") or HEADING.fullmatch(element.tag):
        style = replace(style, bold=True)
    if element.tag == "font" and (color := parse_color(element.get("color") or "")):
        style = replace(style, color=color, explicit=True)
    for decl in parse_declarations(element.get("style") or ""):
        if decl.prop == "color" and (color := parse_color(decl.value, style.background)):
            style = replace(style, color=color, explicit=True)
        elif decl.prop in ("background-color", "background"):
            color = color_in(decl.value, style.background)
            if color is not None:
                style = replace(style, background=color, explicit=True)
        elif decl.prop == "font-size":
            style = replace(style, font_px=_font_px(decl.value, style.font_px))
        elif decl.prop == "font-weight":
            weight = decl.value.lower()
            bold = weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 600)
            style = replace(style, bold=bold)
        elif decl.prop == "display" and decl.value.lower() == "none":
            style = replace(style, hidden=True)
    return style


def _check_contrast(context: CheckContext, report: Report) -> None:
    failures: dict[tuple, list] = {}

    def visit(element, parent: _Style) -> None:
        if not isinstance(element.tag, str) or element.tag in SKIP_TAGS:
            return
        style = _styled(element, parent)
        if style.hidden:
            return
        own_text = (element.text or "") + "".join(child.tail or "" for child in element)
        # Text without letters or digits ("|", "·") is decoration, not content to read.
        if style.explicit and any(ch.isalnum() for ch in own_text):
            ratio = contrast_ratio(style.color, style.background)
            large = style.font_px >= 24 or (style.bold and style.font_px >= 18.66)
            needed = AA_LARGE if large else AA_NORMAL
            if ratio < needed:
                location, line = context.locator.locate(element, needles=(own_text.strip()[:40],))
                key = (location, hex_of(style.color), hex_of(style.background), needed)
                failures.setdefault(key, []).append((ratio, line, own_text.strip()))
        for child in element:
            visit(child, style)

    visit(context.body(), _Style())
    for (location, fg, bg, needed), hits in failures.items():
        ratio, line, text = hits[0]
        more = f" (and {len(hits) - 1} more places)" if len(hits) > 1 else ""
        report.add(
            Finding(
                "warning",
                "accessibility",
                "contrast",
                f"text {text[:40]!r} in {fg} on {bg} has contrast {ratio:.2f}:1, below WCAG AA "
                f"{needed}:1{more}",
                "darken the text or lighten the background (check with a contrast checker)",
                location,
                line,
            )
        )


def _check_link_text(context: CheckContext, report: Report) -> None:
    for anchor in context.root.iter("a"):
        if anchor.get("href") is None:
            continue
        text = link_text(anchor)
        location, line = context.locator.locate(anchor, needles=((anchor.get("href") or ""), text))
        if not text:
            report.add(
                Finding(
                    "error",
                    "accessibility",
                    "link-no-text",
                    f"a link to {anchor.get('href', '')[:60]} has no text and no image alt: "
                    "screen readers read out the address",
                    "give the link words, or give the linked image an alt text",
                    location,
                    line,
                )
            )
        elif _vague(text) and _vague(anchor.get("aria-label") or text):  # a label is read instead
            report.add(
                Finding(
                    "warning",
                    "accessibility",
                    "link-vague",
                    f"link text {text!r} does not make sense on its own (screen readers list "
                    "links out of context)",
                    "link the words that say where it goes: [the programme for 12 May](...)",
                    location,
                    line,
                )
            )


def _vague(text: str) -> bool:
    return text.lower().strip(" .:!→»") in VAGUE_LINK_TEXT


def _check_data_tables(context: CheckContext, report: Report) -> None:
    for table in context.root.iter("table"):
        if (table.get("role") or "").lower() in ("presentation", "none"):
            continue
        if looks_like_data(table) and not has_headers(table):
            first_cell = " ".join((table.findtext(".//td") or "").split())
            location, line = context.locator.locate(table, needles=(first_cell,))
            report.add(
                Finding(
                    "warning",
                    "accessibility",
                    "table-headers",
                    "a data table has no header cells (<th>): screen readers cannot say which "
                    "column a value belongs to",
                    "give the Markdown table a header row (| Name | Date |, then |---|---|)",
                    location,
                    line,
                )
            )
