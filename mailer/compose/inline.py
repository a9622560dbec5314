"""CSS inlining with premailer (the only module that imports it), configured for email clients."""

from __future__ import annotations

import functools
import logging
import threading
from typing import ClassVar

import cssutils
import premailer
import premailer.merge_style
import premailer.premailer
from lxml import etree

DOCTYPE = "<!DOCTYPE html>"
_PARSED_SHEETS = 8  # style blocks whose parsed rules are kept (the issue's, a few templates)


class _KeptParses(premailer.Premailer):
    """premailer that keeps the parse of a `<style>` block between calls, keyed by its text.

    A warm rebuild in the live preview spent most of its time in cssutils parsing the same
    stylesheet again (the CSS rarely changes while an editor writes). The parsed rules are
    plain tuples of strings and the kept `@media` text is what premailer would write again
    (it only adds `!important`), so reusing them gives the same output.
    """

    _cache: ClassVar[dict[tuple, tuple]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def _parse_style_rules(self, css_body, ruleset_index):
        key = (css_body, ruleset_index)
        with self._lock:
            entry = self._cache.get(key)
        if entry is None:
            rules, leftover = super()._parse_style_rules(css_body, ruleset_index)
            entry = (rules, leftover, [None])
            with self._lock:
                if len(self._cache) >= _PARSED_SHEETS:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = entry
        return list(entry[0]), entry[1]

    def _css_rules_to_string(self, rules):
        with self._lock:
            entry = next((e for e in self._cache.values() if e[1] is rules), None)
        if entry is None:
            return super()._css_rules_to_string(rules)
        if entry[2][0] is None:
            entry[2][0] = super()._css_rules_to_string(rules)
        return entry[2][0]


def _keep_declaration_parses() -> None:
    """Give premailer's parse of a declaration list (`color:red;margin:0`) a cache of its own.

    premailer caches it and its selectors in one shared 128-entry cache, which one issue
    (about 90 distinct declaration lists and 150 selectors) overflows, so every build parsed
    them anew. The function is pure (text in, list of pairs out); its lock stays in use.
    """
    original = premailer.merge_style.csstext_to_pairs
    if hasattr(original, "cache_info"):  # already replaced (module reloaded)
        return
    kept = functools.lru_cache(maxsize=4096)(original.__wrapped__)
    kept._lock = original._lock  # the wrapped function takes its lock through this name
    premailer.merge_style.csstext_to_pairs = kept
    premailer.premailer.csstext_to_pairs = kept
    selector = premailer.premailer._create_cssselector
    premailer.premailer._create_cssselector = functools.lru_cache(maxsize=4096)(
        selector.__wrapped__
    )


_keep_declaration_parses()


@functools.lru_cache(maxsize=1024)
def _float_of(style: str) -> str:
    """The `float` of an inline style, read as premailer reads it (cssutils), kept per text."""
    return cssutils.parseStyle(style).float


def _align_floating_images(page) -> None:
    """premailer's `align_floating_images`, with its per-image style parse kept: Outlook reads
    `align` where it ignores a CSS float."""
    for item in page.xpath("//img[@style]"):
        side = _float_of(item.attrib["style"])
        if side in ("left", "right"):
            item.attrib["align"] = side


def inline_css(html: str) -> str:
    """Move <style> rules into style attributes; keep what cannot be inlined (@media) in <style>.

    The settings fix premailer defaults that break emails (see NOTES "Rendering email"):
    `strip_important=False` keeps `!important` in the kept @media rules, which must beat the
    inlined styles; `disable_basic_attributes` leaves `<img width="600">` unitless for Outlook;
    `allow_network=False` keeps builds offline; cssutils stays quiet about `mso-*` properties.
    Parses that do not change between builds are kept (`_KeptParses`, `_keep_declaration_parses`).
    """
    cssutils.log.setLevel(logging.CRITICAL)
    # parsed and written out as premailer does for a string, so that the images' float can
    # be read with a kept parse (`_align_floating_images`) between the two
    stripped = html.strip()
    tree = etree.fromstring(stripped, etree.HTMLParser()).getroottree()
    page = tree.getroot()
    transformer = _KeptParses(
        page,
        strip_important=False,
        disable_basic_attributes=["width", "height"],
        allow_network=False,
        cssutils_logging_level=logging.CRITICAL,
        keep_style_tags=False,
        remove_classes=False,
        disable_validation=True,
        exclude_pseudoclasses=True,
        cache_css_parsing=False,
        align_floating_images=False,
    )
    cssutils.ser.prefs.useMinified()  # the kept <style> block counts against Gmail's 16 KB
    try:
        transformer.transform()
        _align_floating_images(page)
    finally:
        cssutils.ser.prefs.useDefaults()
    root = tree if stripped.startswith(tree.docinfo.doctype) else page
    result = etree.tostring(root, method="html", pretty_print=True, encoding="utf-8").decode()
    if not result.lstrip().lower().startswith("<!doctype"):
        result = f"{DOCTYPE}\n{result}"
    return result
