"""Size checks: Gmail clips big HTML bodies and drops big or nested <style> blocks."""

from __future__ import annotations

import lxml.html

from ..compose.attachments import attachment_findings
from ..compose.build import GMAIL_CLIP_BYTES, GMAIL_STYLE_BYTES
from .context import CheckContext, html_part
from .css import parse_stylesheet
from .report import Finding, Report

# Decimal kilobytes: the safe side of the "102 KB" and "16 KB" figures quoted for Gmail.
GMAIL_CLIP_WARN_BYTES = 90_000


def check_size(context: CheckContext, report: Report) -> None:
    part = html_part(context.message)
    if part is not None:
        encoded = part.get_payload()
        size = len(encoded.encode("ascii", "replace")) if isinstance(encoded, str) else 0
        encoding = part.get("Content-Transfer-Encoding", "7bit")
    else:
        size = len(context.html.encode("utf-8"))
        encoding = "8bit"
    report.facts["html_bytes_encoded"] = size
    report.facts["html_transfer_encoding"] = encoding
    report.facts["html_bytes_raw"] = len(context.html.encode("utf-8"))
    location, _ = context.locator.built()
    size_text = f"{size / 1000:.1f} KB as sent ({encoding})"
    advice = (
        "shorten the sections or move long articles to the web version and link to them; "
        "large inline styles repeated on many elements also add up"
    )
    largest = _largest_sections(context)
    if largest:
        location = str(context.issue_dir / largest[0][0])
        shares = ", ".join(f"{name} {count / 1000:.0f} KB" for name, count in largest)
        advice = f"the largest sections (HTML before encoding): {shares}; {advice}"
    if size > GMAIL_CLIP_BYTES:
        report.add(
            Finding(
                "error",
                "size",
                "gmail-clip",
                f"the HTML is {size_text}: Gmail clips messages over "
                f"{GMAIL_CLIP_BYTES // 1000} KB and hides the rest, unsubscribe link included",
                advice,
                location,
            )
        )
    elif size > GMAIL_CLIP_WARN_BYTES:
        report.add(
            Finding(
                "warning",
                "size",
                "gmail-clip-near",
                f"the HTML is {size_text}, close to Gmail's {GMAIL_CLIP_BYTES // 1000} KB "
                "clipping limit",
                advice,
                location,
            )
        )
    _check_style_blocks(context, report)
    _check_attachments(context, report)


def _check_attachments(context: CheckContext, report: Report) -> None:
    for severity, message, advice in attachment_findings(context.meta.get("attachments") or []):
        code = "attachments-too-large" if severity == "error" else "attachments-large"
        location = str(context.issue_dir / "issue.md")
        report.add(Finding(severity, "size", code, message, advice, location))


def _largest_sections(context: CheckContext, keep: int = 2) -> list[tuple[str, int]]:
    """The sections whose HTML weighs most, so a size finding names the file to shorten."""
    totals: dict[str, int] = {}
    for element in context.root.iter():
        name = element.get("data-section") if isinstance(element.tag, str) else None
        if name and name in context.locator.sources:
            totals[name] = totals.get(name, 0) + len(lxml.html.tostring(element))
    return sorted(totals.items(), key=lambda item: -item[1])[:keep]


def _check_style_blocks(context: CheckContext, report: Report) -> None:
    for style in context.style_blocks():
        css = style.text or ""
        size = len(css.encode("utf-8"))
        location, line = context.locator.built(style.sourceline)
        if size > GMAIL_STYLE_BYTES:
            report.add(
                Finding(
                    "error",
                    "size",
                    "gmail-style-size",
                    f"a <style> block is {size / 1000:.1f} KB: Gmail drops style blocks over "
                    f"{GMAIL_STYLE_BYTES // 1000} KB entirely (and with them the mobile layout)",
                    "trim the template's CSS or split it into two <style> blocks",
                    location,
                    line,
                )
            )
        for rule in parse_stylesheet(css):
            nested = [child for child in rule.children if child.at_rule]
            if rule.at_rule and nested:
                report.add(
                    Finding(
                        "error",
                        "size",
                        "gmail-style-nested-at-rule",
                        f"'{nested[0].prelude}' is nested inside '{rule.prelude}': Gmail drops "
                        "the whole <style> block when it contains a nested at-rule",
                        "flatten it into one at-rule (combine the media conditions with 'and')",
                        location,
                        line,
                    )
                )
