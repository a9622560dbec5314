"""CSS colours to RGB and WCAG 2 contrast ratios."""

from __future__ import annotations

import re

from cssutils.css.value import ColorValue

RGB = tuple[float, float, float]
_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})\b", re.I)
_FUNC = re.compile(r"rgba?\(\s*([^)]*)\)", re.I)


def parse_color(value: str, below: RGB = (255, 255, 255)) -> RGB | None:
    """An opaque RGB for a CSS colour (alpha blended over `below`); None when unknown."""
    value = value.strip().lower()
    if not value or value in ("inherit", "initial", "currentcolor", "unset", "transparent"):
        return None
    match = _HEX.fullmatch(value)
    if match:
        digits = match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(ch * 2 for ch in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        alpha = channels[3] / 255 if len(channels) == 4 else 1.0
        return _blend(tuple(channels[:3]), alpha, below)
    match = _FUNC.fullmatch(value)
    if match:
        parts = [p for p in re.split(r"[\s,/]+", match.group(1)) if p]
        if len(parts) < 3:
            return None
        try:
            rgb = tuple(float(p[:-1]) * 2.55 if p.endswith("%") else float(p) for p in parts[:3])
            alpha = 1.0
            if len(parts) > 3:
                alpha = float(parts[3][:-1]) / 100 if parts[3].endswith("%") else float(parts[3])
        except ValueError:
            return None
        return _blend(rgb, alpha, below)
    named = ColorValue.COLORS.get(value)
    if named:
        return _blend(named[:3], named[3], below)
    return None


def color_in(shorthand: str, below: RGB = (255, 255, 255)) -> RGB | None:
    """The colour inside a `background:` shorthand (`#fff url(x.png) no-repeat`)."""
    for token in re.findall(r"rgba?\([^)]*\)|#[0-9a-f]{3,8}\b|[a-z]+", shorthand, re.I):
        color = parse_color(token, below)
        if color is not None:
            return color
    return None


def _blend(rgb, alpha: float, below: RGB) -> RGB:
    alpha = min(max(alpha, 0.0), 1.0)
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(rgb, below, strict=True))


def relative_luminance(rgb: RGB) -> float:
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
