"""WCAG 2 contrast of sRGB colours, and an accent colour darkened until white text reads on it.

The quality gate (`check.colors`) measures emails with it; the public pages use it to keep the
organisation's brand colour readable on buttons and links.
"""

from __future__ import annotations

RGB = tuple[float, float, float]
AA_TEXT = 4.5  # WCAG 2 AA for body text


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


def rgb_of(hex_color: str) -> RGB:
    """'#0f5e6e' -> (15, 94, 110)."""
    value = hex_color.lstrip("#")
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def _hex(rgb: RGB) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def darken(hex_color: str, factor: float) -> str:
    """The colour with each channel scaled by `factor` (0..1): same hue, darker."""
    return _hex(tuple(c * factor for c in rgb_of(hex_color)))


def readable_accent(hex_color: str, minimum: float = AA_TEXT) -> str:
    """`hex_color`, darkened in small steps until white text on it (and it as text on white)
    reaches `minimum`; a light brand colour such as a pale yellow becomes a usable one."""
    white = (255.0, 255.0, 255.0)
    factor = 1.0
    color = hex_color.lower()
    while contrast_ratio(rgb_of(color), white) < minimum and factor > 0.05:
        factor -= 0.05
        color = darken(hex_color, factor)
    return color
