"""Link checks: real targets, allowed schemes, descriptive text, unsubscribe/preferences links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .context import CheckContext
from .images import is_loopback
from .report import Finding, Report

ALLOWED_SCHEMES = ("http", "https", "mailto")
# "Click here" in the three languages we write in: the text says nothing about the target.
CLICK_HERE = re.compile(
    r"\b(click here|tap here|klicka här|tryck här|läs mer här|klik her|tryk her|læs mere her)\b",
    re.I,
)
UNFILLED = re.compile(r"\{\{|\{%|%7B%7B|\$\{|\[\[", re.I)


def link_text(anchor) -> str:
    """What a reader hears for a link: its text, else the alt text of an image inside it."""
    text = " ".join((anchor.text_content() or "").split())
    if text:
        return text
    alts = [img.get("alt", "").strip() for img in anchor.iter("img")]
    return " ".join(a for a in alts if a) or (anchor.get("aria-label") or "").strip()


def check_links(context: CheckContext, report: Report) -> None:
    for anchor in context.root.iter("a"):
        _check_anchor(context, report, anchor)
    _check_required_links(context, report)


def _check_anchor(context: CheckContext, report: Report, anchor) -> None:
    href = (anchor.get("href") or "").strip()
    text = link_text(anchor)
    if anchor.get("href") is None and anchor.get("name") is not None:
        return  # a named anchor, not a link
    location, line = context.locator.locate(anchor, needles=(href, text))
    label = f"the link {text!r}" if text else "a link"

    def add(severity: str, code: str, message: str, advice: str) -> None:
        report.add(Finding(severity, "links", code, message, advice, location, line))

    if href in ("", "#"):
        add(
            "error",
            "href-empty",
            f"{label} has {'an empty href' if not href else 'href=#'}: it goes nowhere",
            "give the link its address: [text](https://...)",
        )
        return
    if UNFILLED.search(href):
        add(
            "error",
            "href-placeholder",
            f"{label} still holds a template placeholder: {href[:80]}",
            "use only the placeholders the issue supports (name, email, unsubscribe_url, "
            "preferences_url) and rebuild",
        )
        return
    if href.startswith("#"):
        add(
            "warning",
            "href-anchor",
            f"{label} points to {href} in the same message: many clients ignore such anchors",
            "link to the web version of the issue instead",
        )
        return
    href = _counted_target(context, href)
    scheme = urlsplit(href).scheme.lower()
    if scheme == "tel":
        # Phones dial it; elsewhere only the text helps, so the text must show the number.
        digits = re.sub(r"\D", "", href)
        if digits and digits not in re.sub(r"\D", "", text):
            add(
                "warning",
                "href-tel",
                f"{label} dials {href[4:]}, but only phones can follow tel: links",
                "write the phone number itself as the link text",
            )
        return
    if scheme not in ALLOWED_SCHEMES:
        add(
            "error",
            "href-scheme",
            f"{label} points to {href[:80]!r}: only https, http, mailto (and tel) links work in "
            "email",
            "use a full address starting with https://",
        )
        return
    if scheme == "http" and is_loopback(href) and not is_loopback(context.settings.base_url):
        add(
            "error",
            "href-loopback",
            f"{label} points to {urlsplit(href).netloc}, which recipients cannot reach",
            "rebuild the issue with NEWSLETTER_BASE_URL set to the public address",
        )
    if text and CLICK_HERE.search(text):
        add(
            "warning",
            "click-here",
            f"{label} says where to click, not where it goes",
            "make the linked words describe the target, e.g. [read the full report](...)",
        )


def _counted_target(context: CheckContext, href: str) -> str:
    """The real address behind a click-counter link (`/r/SLUG/N`, NEWSLETTER_CLICK_COUNTING),
    so that the checks judge where the reader ends up; other links as they are."""
    links = context.meta.get("links") or {}
    prefix = f"{str(context.meta.get('base_url', '')).rstrip('/')}/r/{context.meta.get('slug')}/"
    if links and href.startswith(prefix):
        return str(links.get(href[len(prefix) :], href))
    return href


def _check_required_links(context: CheckContext, report: Report) -> None:
    hrefs = {(a.get("href") or "").strip() for a in context.root.iter("a")}
    for key, what in (("unsubscribe_url", "unsubscribe"), ("preferences_url", "preferences")):
        value = context.values[key]
        in_html = value in hrefs
        in_text = value in context.text
        for part, present, path in (
            ("HTML", in_html, context.html_path),
            ("plain-text", in_text, context.text_path),
        ):
            if present:
                continue
            report.add(
                Finding(
                    "error",
                    "links",
                    f"{what}-link-missing",
                    f"the {part} version has no {what} link for the recipient",
                    f"the email template must link to the `{key}` placeholder "
                    f"({'templates/email/' if part == 'HTML' else 'templates/text/'})",
                    str(path),
                )
            )
