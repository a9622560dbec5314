"""Aggregate click counting (NEWSLETTER_CLICK_COUNTING=on): the email's web links go through a
short redirect on our server, `{base}/r/{slug}/{n}`, that counts per issue and link.

Why this shape: a funder asks how many followed the issue, not who did. The redirect address
names only the issue and the link's number, the same in every copy, so it cannot tell readers
apart; the server adds one to a counter and keeps nothing else (no subscriber, no IP). The
redirect goes only to a link listed in the issue's meta.json, so it is never an open redirect.
The plain-text part and the web version keep the real addresses (readers see where a link
goes); personal links (unsubscribe, preferences) are placeholders and are never rewritten, nor
is a link whose text is an address (`shows_address`).
"""

from __future__ import annotations

import html
import re

HREF = re.compile(r'href="(https?://[^"]+)"')
ANCHOR = re.compile(r'<a\b[^>]*?\bhref="(https?://[^"]+)"[^>]*>(.*?)</a>', re.S | re.I)
TAG = re.compile(r"<[^>]+>")


def shows_address(anchor_html: str) -> bool:
    """True when a link's text is itself an address (https://..., www....): such a link keeps
    its real target, since text naming one address over a link to another is what phishing
    looks like, to spam filters and to careful readers."""
    text = html.unescape(TAG.sub("", anchor_html)).strip().lower()
    return text.startswith(("http://", "https://", "www."))


def redirect_url(base_url: str, slug: str, number: int) -> str:
    return f"{base_url.rstrip('/')}/r/{slug}/{number}"


def count_links(email_html: str, base_url: str, slug: str) -> tuple[str, dict[str, str]]:
    """The email with each http(s) link through the counter, and {number: real address}.
    The same address keeps one number wherever it appears."""
    numbers: dict[str, int] = {}
    shown = {m.start(1) for m in ANCHOR.finditer(email_html) if shows_address(m.group(2))}

    def replace(match: re.Match) -> str:
        if match.start(1) in shown:
            return match.group(0)
        target = html.unescape(match.group(1))
        number = numbers.setdefault(target, len(numbers) + 1)
        return f'href="{redirect_url(base_url, slug, number)}"'

    rewritten = HREF.sub(replace, email_html)
    return rewritten, {str(number): target for target, number in numbers.items()}
