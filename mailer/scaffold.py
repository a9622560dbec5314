"""`newsletter new`: a fresh issue folder with front matter, one section per layout, images."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from pathlib import Path

from .errors import IssueError
from .i18n import LANGUAGES

SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SITE_TEMPLATE = """# Header and footer of every issue in this folder (issue.md may override a key).
organisation: Organisationens namn
address: Box 0, 000 00 Orten
web: https://www.example.se/
email: info@example.se
phone: 000-00 00 00
# logo: assets/logo.png
# logo_alt: Organisationens namn
# funding_logo: assets/eu-logo.png
# funding_logo_alt: Medfinansieras av Europeiska unionen
# funding_text: Projektet medfinansieras av Europeiska regionala utvecklingsfonden.
"""


def gradient_png(width: int, height: int, top: tuple, bottom: tuple) -> bytes:
    """A small gradient PNG written with zlib alone (placeholder until the editor adds photos)."""
    rows = []
    for y in range(height):
        t = y / max(1, height - 1)
        pixel = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + pixel * width)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _files(title: str, number: str, language: str, today: dt.date) -> dict[str, str]:
    return {
        "issue.md": f"""---
title: {title}
issue: "{number}"
date: {today.isoformat()}
preheader: En mening som lockar till läsning; inkorgen visar den efter ämnesraden.
language: {language}
list: nyhetsbrev
# subject: Ämnesrad (standard: titel och nummer)
---
""",
        "01-inledning.md": """---
layout: article
image: images/hero.png
image_alt: Beskriv bilden för den som inte ser den
button_text: Läs mer
button_url: https://www.example.se/
---
# Rubrik för inledningen

Skriv inledningen här. Stycken skiljs åt med en tom rad.
""",
        "02-linje.md": "---\nlayout: divider\n---\n",
        "03-bild-och-text.md": """---
layout: image-text
image: images/bild.png
image_alt: Beskriv bilden
image_side: left
---
## Bild bredvid text

Bilden (270 px bred) står bredvid texten på datorn och ovanför texten i mobilen.
""",
        "04-text.md": """---
layout: text
---
## Text med lista och tabell

- en punkt
- en punkt till

| Vad | När |
|---|---|
| Möte | 1 oktober |

Länkar skrivs med hela adressen: [vår webbplats](https://www.example.se/).
""",
        "05-kalender.md": f"""---
layout: events
title: Kalender
events:
  - date: {(today + dt.timedelta(days=30)).isoformat()}
    title: Partnerskapsmöte
    time: kl. 10–12
    place: Örebro
---
""",
        "06-fakta.md": "---\nlayout: facts\n---\nKorta fakta i en ruta.\n",
        "07-kontakt.md": """---
layout: contact
name: Förnamn Efternamn
role: Samordnare
phone: 019-00 00 00
email: namn@example.se
---
""",
    }


def scaffold_issue(
    newsletters_dir: Path,
    slug: str,
    *,
    language: str = "sv",
    title: str = "Nyhetsbrev",
    today: dt.date | None = None,
) -> Path:
    """Create newsletters_dir/slug with example sections; refuse to touch an existing folder."""
    if not SLUG.match(slug):
        raise IssueError(
            f"{slug!r}: use lower-case letters, digits and '-' for the folder name (e.g. 2026-3)"
        )
    if language not in LANGUAGES:
        raise IssueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    target = Path(newsletters_dir) / slug
    if target.exists():
        raise IssueError(f"{target} already exists; choose another name or edit that issue")
    today = today or dt.date.today()
    number = f"{today.year}:{slug.rsplit('-', 1)[-1]}" if "-" in slug else str(today.year)
    (target / "images").mkdir(parents=True)
    for name, text in _files(title, number, language, today).items():
        (target / name).write_text(text, encoding="utf-8")
    site_file = Path(newsletters_dir) / "newsletter.yml"
    if not site_file.exists():
        site_file.write_text(SITE_TEMPLATE, encoding="utf-8")
    (target / "images" / "hero.png").write_bytes(
        gradient_png(600, 290, (196, 226, 232), (15, 94, 110))
    )
    (target / "images" / "bild.png").write_bytes(
        gradient_png(270, 160, (246, 240, 226), (232, 163, 61))
    )
    return target
