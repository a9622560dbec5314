"""Aggregate click counting (NEWSLETTER_CLICK_COUNTING=on): the email's web links go through a
short redirect on our server, `{base}/r/{slug}/{n}`, that counts per issue and link.

Why this shape: a funder asks how many followed the issue, not who did. The redirect address
names only the issue and the link's number, the same in every copy, so it cannot tell readers
apart; the server adds one to a counter and keeps nothing else (no subscriber, no IP). The
redirect goes only to a link listed in the issue's meta.json, so it is never an open redirect.
The plain-text part and the web version keep the real addresses (readers see where a link
goes); personal links (unsubscribe, preferences) are placeholders and are never rewritten.
"""

from __future__ import annotations

import html
import re

HREF = re.compile(r'href="(https?://[^"]+)"')


def redirect_url(base_url: str, slug: str, number: int) -> str:
    return f"{base_url.rstrip('/')}/r/{slug}/{number}"


def count_links(email_html: str, base_url: str, slug: str) -> tuple[str, dict[str, str]]:
    """The email with each http(s) link through the counter, and {number: real address}.
    The same address keeps one number wherever it appears."""
    numbers: dict[str, int] = {}

    def replace(match: re.Match) -> str:
        target = html.unescape(match.group(1))
        number = numbers.setdefault(target, len(numbers) + 1)
        return f'href="{redirect_url(base_url, slug, number)}"'

    rewritten = HREF.sub(replace, email_html)
    return rewritten, {str(number): target for target, number in numbers.items()}
