"""CSS colours to RGB and WCAG 2 contrast ratios.

Colours are read by tinycss2's CSS Color 4 parser: hex, rgb()/rgba(), hsl()/hsla(), hwb() and
the named colours all reach the contrast check (before, hsl() and some names were skipped).
"""

from __future__ import annotations

import tinycss2
from tinycss2 import color4

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


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour with 0-255 channels."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: RGB, background: RGB) -> float:
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def hex_of(rgb: RGB) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)
