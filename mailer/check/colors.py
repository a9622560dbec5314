"""CSS colours to RGB and WCAG 2 contrast ratios.

Colours are read by tinycss2's CSS Color 4 parser: hex, rgb()/rgba(), hsl()/hsla(), hwb() and
the named colours all reach the contrast check (before, hsl() and some names were skipped).
"""

from __future__ import annotations

import tinycss2
from tinycss2 import color4

from ..compose.contrast import contrast_ratio, relative_luminance

__all__ = ["color_in", "contrast_ratio", "hex_of", "parse_color", "relative_luminance"]

RGB = tuple[float, float, float]
_UNKNOWN = ("inherit", "initial", "currentcolor", "unset", "transparent", "revert", "none")


def parse_color(value, below: RGB = (255, 255, 255)) -> RGB | None:
    """An opaque RGB for a CSS colour (alpha blended over `below`); None when unknown.

    `value` is CSS text or one tinycss2 token.
    """
    if isinstance(value, str):
        value = value.strip()
        if not value or value.lower() in _UNKNOWN:
            return None
    try:
        color = color4.parse_color(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if color is None or isinstance(color, str):  # unknown, or 'currentcolor'
        return None
    try:
        red, green, blue = color.to("srgb").coordinates
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if color.alpha == 0:
        return None  # transparent: the colour below shows
    rgb = tuple(min(max(channel, 0.0), 1.0) * 255 for channel in (red, green, blue))
    return _blend(rgb, color.alpha, below)


def color_in(shorthand: str, below: RGB = (255, 255, 255)) -> RGB | None:
    """The colour inside a `background:` shorthand (`#fff url(x.png) no-repeat`)."""
    for token in tinycss2.parse_component_value_list(shorthand, skip_comments=True):
        if token.type in ("ident", "hash", "function"):
            color = parse_color(token, below)
            if color is not None:
                return color
    return None


def _blend(rgb, alpha: float, below: RGB) -> RGB:
    alpha = min(max(alpha, 0.0), 1.0)
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(rgb, below, strict=True))


def hex_of(rgb: RGB) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)
