"""The organisation as the public pages show it: name, logo, accent colour, postal address and
the lists' names, all from newsletters/newsletter.yml (as the emails use them).

The web app reads this once at start; the build reads the same file through `read_issue`, so
a page and an email never disagree on who sends it or what a list is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .contrast import darken, readable_accent
from .issue import SITE_FILE, read_site_file
from .site_lists import ListText, list_name
from .sources import Image, ImageSet

DEFAULT_ACCENT = "#0f5e6e"  # the emails' default brand colour (render.DEFAULT_BRAND)


@dataclass(frozen=True)
class SiteProfile:
    """Who the pages speak for. Empty strings where newsletter.yml says nothing."""

    organisation: str = ""
    address: str = ""
    web: str = ""
    email: str = ""
    phone: str = ""
    logo: Image | None = None
    logo_alt: str = ""
    accent: str = DEFAULT_ACCENT  # the brand colour, darkened where white text needs it
    lists: dict[str, ListText] = field(default_factory=dict)

    @property
    def accent_dark(self) -> str:
        """The hover shade of the accent."""
        return darken(self.accent, 0.78)

    def list_name(self, key: str, lang: str, fallback: str = "") -> str:
        return list_name(self.lists, key, lang, fallback)

    def list_description(self, key: str, lang: str) -> str:
        known = self.lists.get(key)
        return known.description(lang) if known else ""

    def offered_in(self, key: str, lang: str) -> bool:
        """Whether a page in `lang` offers list `key` (lists without a language: always)."""
        known = self.lists.get(key)
        return known is None or known.offered_in(lang)


def read_profile(newsletters_dir: Path) -> SiteProfile:
    """The profile from NEWSLETTERS_DIR/newsletter.yml; an empty one without that file.
    A mistake in the file is an IssueError naming its line (the app does not start)."""
    site, lists = read_site_file(Path(newsletters_dir) / SITE_FILE, ImageSet())
    text = {k: str(site.get(k) or "") for k in ("organisation", "address", "web", "email")}
    return SiteProfile(
        **text,
        phone=str(site.get("phone") or ""),
        logo=site.get("logo") or None,
        logo_alt=str(site.get("logo_alt") or site.get("organisation") or ""),
        accent=readable_accent(str(site.get("brand_color") or DEFAULT_ACCENT)),
        lists=lists,
    )
