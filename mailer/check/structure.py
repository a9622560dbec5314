"""Structure checks: the document skeleton email clients rely on, and the template's CSS rules."""

from __future__ import annotations

import re

from .context import CheckContext
from .css import parse_stylesheet, walk
from .report import Finding, Report
from .tables import is_layout_table

_CONDITIONAL = re.compile(r"\[if\s[^\]]*\]|\[endif\]", re.I)
_TEMPLATE_HINT = "this comes from the email template (templates/email/)"


def check_structure(context: CheckContext, report: Report) -> None:
    _check_head(context, report)
    _check_preheader(context, report)
    _check_conditional_comments(context, report)
    _check_layout_tables(context, report)
    _check_media_rules(context, report)


def _error(
    report: Report, context: CheckContext, code: str, message: str, advice: str, line=None
) -> None:
    location, line = context.locator.built(line)
    advice = f"{advice} ({_TEMPLATE_HINT})"
    report.add(Finding("error", "structure", code, message, advice, location, line))


def _check_head(context: CheckContext, report: Report) -> None:
    root = context.root
    if not context.doctype.lower().startswith("<!doctype html"):
        _error(
            report,
            context,
            "doctype",
            "no <!DOCTYPE html>: clients fall back to quirks mode",
            "start the document with <!DOCTYPE html>",
        )
    lang = (root.get("lang") or "").strip()
    if not lang:
        _error(
            report,
            context,
            "lang",
            "<html> has no lang attribute: screen readers guess the language",
            'set <html lang="sv"> (or da, en) from the issue language',
        )
    elif context.language and lang.split("-")[0].lower() != context.language.lower():
        location, _ = context.locator.built(root.sourceline)
        report.add(
            Finding(
                "warning",
                "structure",
                "lang-mismatch",
                f'<html lang="{lang}"> but the issue language is {context.language}',
                "set `language` in the issue's front matter, or rebuild",
                location,
                root.sourceline,
            )
        )
    metas = list(root.iter("meta"))
    has_charset = any(
        m.get("charset") or "charset=" in (m.get("content") or "").lower() for m in metas
    )
    if not has_charset:
        _error(
            report,
            context,
            "charset",
            "no <meta charset>: å, ä and ö may turn into garbage",
            'add <meta charset="utf-8"> first in <head>',
        )
    if not any((m.get("name") or "").lower() == "viewport" for m in metas):
        _error(
            report,
            context,
            "viewport",
            "no viewport <meta>: phones show a shrunken desktop layout",
            'add <meta name="viewport" content="width=device-width, initial-scale=1">',
        )
    title = root.find(".//title")
    if title is None or not (title.text_content() or "").strip():
        _error(
            report,
            context,
            "title",
            "the <title> is missing or empty",
            "fill <title> with the issue title (set `title` in the front matter)",
        )


def _is_hidden(element) -> bool:
    node = element
    while node is not None:
        style = (node.get("style") or "").replace(" ", "").lower()
        if "display:none" in style:
            return True
        node = node.getparent()
    return False


def _check_preheader(context: CheckContext, report: Report) -> None:
    preheader = " ".join(str(context.meta.get("preheader") or "").split())
    needles = (preheader[:60],) if preheader else ()
    if not preheader:
        location, line = context.locator.locate(needles=(str(context.meta.get("title") or ""),))
        report.add(
            Finding(
                "warning",
                "structure",
                "preheader-missing",
                "the issue has no preheader: the inbox shows the first words of the body instead",
                "add a one-line `preheader` to the issue's front matter (under 100 characters)",
                location,
                line,
            )
        )
        return
    probe = preheader[:40]
    holders = [
        el
        for el in context.body().iter()
        if isinstance(el.tag, str)
        and probe in " ".join((el.text or "").split())
        and el.tag not in ("title",)
    ]
    if not holders:
        location, line = context.locator.locate(needles=needles)
        report.add(
            Finding(
                "error",
                "structure",
                "preheader-absent",
                "the preheader from the front matter does not appear in the email body",
                "rebuild the issue; the email template must put the preheader first in <body>",
                location,
                line,
            )
        )
        return
    element = holders[0]
    location, line = context.locator.built(element.sourceline)
    if not _is_hidden(element):
        report.add(
            Finding(
                "error",
                "structure",
                "preheader-visible",
                "the preheader is visible at the top of the email",
                "hide it with display:none; max-height:0; overflow:hidden; mso-hide:all "
                f"({_TEMPLATE_HINT})",
                location,
                line,
            )
        )
    elif "mso-hide:all" not in (element.get("style") or "").replace(" ", "").lower():
        report.add(
            Finding(
                "warning",
                "structure",
                "preheader-mso",
                "the hidden preheader has no mso-hide:all: Outlook on Windows may show it",
                f"add mso-hide:all to its style ({_TEMPLATE_HINT})",
                location,
                line,
            )
        )


def _check_conditional_comments(context: CheckContext, report: Report) -> None:
    depth, opened_line = 0, None
    for match in _CONDITIONAL.finditer(context.html):
        line = context.html.count("\n", 0, match.start()) + 1
        if match.group(0).lower().startswith("[if"):
            if depth:
                _error(
                    report,
                    context,
                    "mso-nested",
                    f"an Outlook conditional comment opens inside another one (opened on line "
                    f"{opened_line}); they cannot nest",
                    "close the first <!--[if mso]> with <![endif]--> before opening the next",
                    line,
                )
            depth, opened_line = depth + 1, line
        else:
            if depth == 0:
                _error(
                    report,
                    context,
                    "mso-unbalanced",
                    "<![endif]--> without a matching <!--[if ...]>",
                    "remove it or add the missing <!--[if mso]>",
                    line,
                )
                continue
            depth -= 1
    if depth:
        _error(
            report,
            context,
            "mso-unbalanced",
            "an Outlook conditional comment <!--[if ...]> is never closed",
            "close it with <![endif]-->; everything after it is hidden in other clients",
            opened_line,
        )


def _check_layout_tables(context: CheckContext, report: Report) -> None:
    by_location: dict[str, list[int]] = {}
    for table in context.root.iter("table"):
        if (table.get("role") or "").lower() in ("presentation", "none"):
            continue
        if not is_layout_table(table):
            continue
        location, line = context.locator.locate(table)
        by_location.setdefault(location, []).append(line or table.sourceline or 0)
    for location, lines in by_location.items():
        shown = ", ".join(str(n) for n in lines[:5]) + (" ..." if len(lines) > 5 else "")
        report.add(
            Finding(
                "warning",
                "structure",
                "table-role",
                f'{len(lines)} layout table(s) without role="presentation" (line {shown}): '
                "screen readers announce rows and columns",
                'add role="presentation" to tables used for layout',
                location,
                lines[0] or None,
            )
        )


def _check_media_rules(context: CheckContext, report: Report) -> None:
    dark_rules = False
    for style in context.style_blocks():
        css = style.text or ""
        missing: list[str] = []
        for rule, parents in walk(parse_stylesheet(css)):
            if rule.at_rule:
                if "prefers-color-scheme" in rule.prelude and "dark" in rule.prelude:
                    dark_rules = True
                continue
            if "[data-ogsc]" in rule.prelude or "[data-ogsb]" in rule.prelude:
                dark_rules = True
            if not any(p.at_name == "media" for p in parents):
                continue
            missing += [
                f"{rule.prelude} {{ {d.prop} }}" for d in rule.declarations if not d.important
            ]
        if missing:
            shown = "; ".join(missing[:3])
            if len(missing) > 3:
                shown += f"; and {len(missing) - 3} more"
            _error(
                report,
                context,
                "media-important",
                f"{len(missing)} declaration(s) inside @media lack !important and lose to the "
                f"inlined styles: {shown}",
                "add !important to every declaration inside @media (templates/email/media.css)",
                style.sourceline,
            )
    has_meta = any(
        (m.get("name") or "").lower() in ("color-scheme", "supported-color-schemes")
        for m in context.root.iter("meta")
    )
    if dark_rules and not has_meta:
        location, line = context.locator.built()
        report.add(
            Finding(
                "warning",
                "structure",
                "color-scheme-meta",
                'the CSS has dark-mode rules but no <meta name="color-scheme">: Apple Mail '
                "ignores them",
                f'add <meta name="color-scheme" content="light dark"> ({_TEMPLATE_HINT})',
                location,
                line,
            )
        )
