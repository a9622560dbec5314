"""Draws the placeholder images of the bundled example issues (deterministic, Pillow only).

Run `python tools/make_images.py` from the project root; it rewrites the files under
newsletters/*/images/ and newsletters/assets/. Images are drawn at twice the size they show
in the email (600x290 heroes -> 1200x580, 270x160 side images -> 540x320) for sharp screens.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent / "newsletters"
TEAL, DEEP, AMBER, SAND = (15, 94, 110), (19, 52, 61), (232, 163, 61), (246, 240, 226)


DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    """DejaVu (Debian's fonts-dejavu-core) has å ä ö é; Pillow's own font draws boxes."""
    file = DEJAVU / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if file.is_file():
        return ImageFont.truetype(str(file), size)
    return ImageFont.load_default(size=size)


def fitted_font(text: str, size: int, max_width: float, bold: bool) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` in which `text` fits in `max_width` pixels."""
    while size > 8 and font(size, bold).getlength(text) > max_width:
        size -= 1
    return font(size, bold)


def mix(a: tuple, b: tuple, t: float) -> tuple:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def sky(draw: ImageDraw.ImageDraw, w: int, h: int, top: tuple, bottom: tuple) -> None:
    for y in range(h):
        draw.line([(0, y), (w, y)], fill=mix(top, bottom, y / h))


def hills(draw, w, h, rng, colours, base=0.55):
    for layer, colour in enumerate(colours):
        phase, amp = rng.uniform(0, 6.28), h * (0.05 + 0.03 * layer)
        level = h * (base + 0.12 * layer)
        points = [
            (x, level - amp * math.sin(x / w * 6.28 * (1 + layer * 0.4) + phase))
            for x in range(0, w + 10, 10)
        ]
        draw.polygon([(0, h), *points, (w, h)], fill=colour)


def landscape(w, h, seed, sun=AMBER, top=(196, 226, 232), bottom=(250, 238, 214)):
    rng = random.Random(seed)  # noqa: S311 - drawing, not secrets
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    sky(draw, w, h, top, bottom)
    cx, cy, r = w * rng.uniform(0.6, 0.8), h * 0.32, h * 0.12
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=sun)
    hills(draw, w, h, rng, [(120, 170, 150), (64, 128, 118), TEAL, DEEP])
    return img, draw, rng


def wagon_scene(w, h, seed):
    img, draw, _ = landscape(w, h, seed)
    x, y, s = w * 0.22, h * 0.52, h / 580
    draw.rounded_rectangle(
        [x, y, x + 330 * s, y + 150 * s], radius=40 * s, fill=SAND, outline=DEEP, width=round(6 * s)
    )
    draw.rectangle([x + 40 * s, y + 35 * s, x + 130 * s, y + 95 * s], fill=(173, 216, 222))
    draw.rectangle([x + 190 * s, y + 35 * s, x + 290 * s, y + 95 * s], fill=AMBER)
    for cx in (x + 80 * s, x + 250 * s):
        draw.ellipse([cx - 34 * s, y + 125 * s, cx + 34 * s, y + 193 * s], fill=DEEP)
    draw.text((x + 205 * s, y + 48 * s), "idé", font=font(round(38 * s)), fill=DEEP)
    return img


def city_scene(w, h, seed):
    rng = random.Random(seed)  # noqa: S311 - drawing, not secrets
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    sky(draw, w, h, (220, 232, 238), (247, 229, 205))
    x = 0
    while x < w:
        bw, bh = rng.randint(60, 150) * w // 1200, rng.randint(140, 380) * h // 580
        colour = mix(TEAL, DEEP, rng.random())
        draw.rectangle([x, h - bh, x + bw, h], fill=colour)
        for wy in range(h - bh + 20, h - 20, 34 * h // 580):
            for wx in range(x + 12, x + bw - 18, 26 * w // 1200):
                if rng.random() < 0.55:
                    draw.rectangle([wx, wy, wx + 10, wy + 16], fill=(250, 222, 160))
        x += bw + rng.randint(4, 14)
    return img


def people_scene(w, h, seed):
    img = Image.new("RGB", (w, h), (236, 244, 244))
    draw = ImageDraw.Draw(img)
    draw.ellipse([w * 0.2, h * 0.62, w * 0.8, h * 1.25], fill=(205, 226, 226))
    colours = [TEAL, AMBER, DEEP, (196, 92, 72), (92, 146, 120)]
    count = 7
    for i in range(count):
        angle = math.pi * (0.15 + 0.7 * i / (count - 1))
        cx, cy = w / 2 - math.cos(angle) * w * 0.33, h * 0.72 - math.sin(angle) * h * 0.42
        r = h * 0.07
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(240, 205, 170))
        draw.rounded_rectangle(
            [cx - r * 1.4, cy + r * 1.1, cx + r * 1.4, cy + r * 3.6],
            radius=r,
            fill=colours[(i + seed) % len(colours)],
        )
    return img


def pattern_scene(w, h, seed):
    rng = random.Random(seed)  # noqa: S311 - drawing, not secrets
    img = Image.new("RGB", (w, h), SAND)
    draw = ImageDraw.Draw(img)
    for _ in range(26):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(h * 0.08, h * 0.3)
        colour = [TEAL, AMBER, (196, 92, 72), (120, 170, 150)][rng.randrange(4)]
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=colour, width=max(3, w // 120))
    for y in range(0, h, h // 10):
        for x in range(0, w, w // 24):
            draw.line([(x, y), (x + w // 48, y)], fill=DEEP, width=2)  # stitches
    return img


def wetland_scene(w, h, seed):
    img, draw, rng = landscape(w, h, seed, sun=(250, 214, 130), top=(180, 214, 230))
    for _ in range(60):
        x, base = rng.uniform(0, w), h * rng.uniform(0.8, 1.0)
        draw.line(
            [(x, base), (x + rng.uniform(-12, 12), base - h * rng.uniform(0.15, 0.35))],
            fill=(58, 96, 70),
            width=max(2, w // 260),
        )
    return img


def wind_scene(w, h, seed):
    img, draw, _ = landscape(w, h, seed, top=(200, 228, 240))
    for i, x in enumerate((0.25, 0.5, 0.72)):
        cx, top = w * x, h * (0.25 + 0.05 * i)
        draw.line([(cx, top), (cx, h * 0.8)], fill=(245, 245, 245), width=max(4, w // 120))
        for k in range(3):
            angle = k * 2.094 + i
            draw.line(
                [(cx, top), (cx + math.cos(angle) * h * 0.16, top + math.sin(angle) * h * 0.16)],
                fill=(245, 245, 245),
                width=max(4, w // 140),
            )
    return img


def portrait(size: int, initials: str, colour: tuple) -> Image.Image:
    img = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(img)
    draw.ellipse([size * 0.3, size * 0.16, size * 0.7, size * 0.56], fill=(240, 212, 182))
    draw.ellipse([size * 0.12, size * 0.6, size * 0.88, size * 1.3], fill=SAND)
    return img


def logo(width: int, height: int, text: str) -> Image.Image:
    img = Image.new("RGB", (width, height), TEAL)
    draw = ImageDraw.Draw(img)
    r = height * 0.36
    for i, colour in enumerate((AMBER, (255, 255, 255), (120, 200, 190))):
        cx = height * 0.5 + i * r * 0.9
        draw.ellipse(
            [cx - r, height / 2 - r, cx + r, height / 2 + r],
            outline=colour,
            width=max(3, height // 14),
        )
    left = height * 0.5 + 3 * r
    face = fitted_font(text, round(height * 0.42), width - left - height * 0.2, bold=False)
    draw.text((left, height / 2), text, font=face, fill=(255, 255, 255), anchor="lm")
    return img


def eu_flag_logo(width: int, height: int, lines: tuple[str, str]) -> Image.Image:
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    fw = height * 1.5
    draw.rectangle([0, 0, fw, height], fill=(0, 51, 153))
    cx, cy, ring = fw / 2, height / 2, height * 0.33
    for k in range(12):
        a = k * math.pi / 6
        x, y, s = cx + math.cos(a) * ring, cy + math.sin(a) * ring, height * 0.045
        draw.ellipse([x - s, y - s, x + s, y + s], fill=(255, 204, 0))
    left = fw + height * 0.18
    fitted = [fitted_font(line, round(height * 0.26), width - left - 4, True) for line in lines]
    size = min(face.size for face in fitted)
    for i, line in enumerate(lines):
        draw.text((left, height * (0.18 + 0.36 * i)), line, font=font(size), fill=(0, 0, 0))
    return img


def save(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".png":
        img.save(path, optimize=True)
    else:
        img.save(path, quality=80, optimize=True, subsampling=2)
    print(f"{path.relative_to(ROOT.parent)}  {img.width}x{img.height}  {path.stat().st_size} B")


HERO, SIDE = (1200, 580), (540, 320)
IMAGES = {
    "assets/logo.png": lambda: logo(560, 112, "Social innovation"),
    "2026-10-partnerskapsmote/images/eu-fonden.png": lambda: eu_flag_logo(
        400, 96, ("Europeiska unionen", "Regionalfonden")
    ),
    "2018-2/images/hero-sommar.jpg": lambda: landscape(*HERO, seed=3)[0],
    "2018-2/images/hero-idevagnen.jpg": lambda: wagon_scene(*HERO, seed=5),
    "2018-2/images/hero-seminarium.jpg": lambda: people_scene(*HERO, seed=1),
    "2018-2/images/hero-europa.jpg": lambda: city_scene(*HERO, seed=8),
    "2018-2/images/gruvan.jpg": lambda: landscape(*SIDE, seed=11, sun=(230, 120, 80))[0],
    "2018-2/images/syateljen.jpg": lambda: pattern_scene(*SIDE, seed=2),
    "2018-2/images/vatmark.jpg": lambda: wetland_scene(*SIDE, seed=4),
    "2018-2/images/klimat.jpg": lambda: wind_scene(*SIDE, seed=6),
    "2018-2/images/kontakt-lena.jpg": lambda: portrait(176, "LB", TEAL),
    "2026-10-partnerskapsmote/images/mote.jpg": lambda: people_scene(*HERO, seed=3),
    "2026-10-partnerskapsmote/images/torget.jpg": lambda: city_scene(*SIDE, seed=21),
    "2026-10-partnerskapsmote/images/kontakt-omar.jpg": lambda: portrait(176, "OH", DEEP),
}


def main() -> None:
    for relative, draw in IMAGES.items():
        save(draw(), ROOT / relative)


if __name__ == "__main__":
    main()
