"""`newsletter new`: a fresh issue folder with front matter, one section per layout, images."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from pathlib import Path

from ..config import DEFAULT_LIST
from ..errors import IssueError
from ..locale import LANGUAGES

SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# newsletter.yml to fill in, per language (example.se/.dk/.com addresses lead nowhere real)
SITE_TEMPLATES = {
    "sv": """# Sidhuvud och sidfot i varje nummer i mappen (issue.md kan ändra en nyckel).
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
# Listornas namn för läsarna (formulär, samtyckestext, sidfotens "varför du får det här"):
# lists:
#   nyhetsbrev:
#     language: sv
#     name: Nyhetsbrevet
#     description: Nyheter från oss fyra gånger om året.
""",
    "da": """# Sidehoved og sidefod i hvert nummer i mappen (issue.md kan ændre en nøgle).
organisation: Organisationens navn
address: Vejen 1, 0000 Byen
web: https://www.example.dk/
email: info@example.dk
phone: +45 00 00 00 00
# logo: assets/logo.png
# logo_alt: Organisationens navn
# funding_logo: assets/eu-logo.png
# funding_logo_alt: Medfinansieret af Den Europæiske Union
# funding_text: Projektet er medfinansieret af Den Europæiske Fond for Regionaludvikling.
# Listernes navne for læserne (formularer, samtykketekst, sidefodens "hvorfor du får det"):
# lists:
#   nyhetsbrev:
#     language: da
#     name: Nyhedsbrevet
#     description: Nyt fra os fire gange om året.
""",
    "en": """# Header and footer of every issue in this folder (issue.md may override a key).
organisation: Name of the organisation
address: 1 High Street, Town AB1 2CD
web: https://www.example.com/
email: info@example.com
phone: +44 0000 000000
# logo: assets/logo.png
# logo_alt: Name of the organisation
# funding_logo: assets/eu-logo.png
# funding_logo_alt: Co-funded by the European Union
# funding_text: The project is co-funded by the European Regional Development Fund.
# The lists' names for readers (forms, consent text, the footer's "why you get this"):
# lists:
#   nyhetsbrev:
#     language: en
#     name: The newsletter
#     description: News from us four times a year.
""",
}


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


# The sample text of a new issue, in the issue's language: the editor overwrites all of it.
SAMPLE_TEXT = {
    "sv": {
        "title": "Nyhetsbrev",
        "preheader": "En mening som lockar till läsning; inkorgen visar den efter ämnesraden.",
        "subject": "Ämnesrad (standard: titel och nummer)",
        "describe": "Beskriv bilden för den som inte ser den",
        "button": "Läs hela programmet",
        "intro_heading": "Rubrik för inledningen",
        "intro": "Skriv inledningen här. Stycken skiljs åt med en tom rad.",
        "side_heading": "Bild bredvid text",
        "side": "Bilden (270 px bred) står bredvid texten på datorn och ovanför texten i mobilen.",
        "text_heading": "Text med lista och tabell",
        "items": ("en punkt", "en punkt till"),
        "table": ("Vad", "När", "Möte", "1 oktober"),
        "links": "Länkar skrivs med hela adressen: [vår webbplats](https://www.example.se/).",
        "calendar": "Kalender",
        "event": ("Partnerskapsmöte", "kl. 10–12", "Örebro"),
        "facts": "Korta fakta i en ruta.",
        "contact": ("Förnamn Efternamn", "Samordnare"),
        "person": ("namn@example.se", "019-00 00 00"),
        "web": "https://www.example.se/",
        "files": (
            "01-inledning",
            "02-linje",
            "03-bild-och-text",
            "04-text",
            "05-kalender",
            "06-fakta",
            "07-kontakt",
        ),
    },
    "da": {
        "title": "Nyhedsbrev",
        "preheader": "En sætning der får folk til at læse; indbakken viser den efter emnelinjen.",
        "subject": "Emnelinje (standard: titel og nummer)",
        "describe": "Beskriv billedet for dem, der ikke kan se det",
        "button": "Læs hele programmet",
        "intro_heading": "Overskrift til indledningen",
        "intro": "Skriv indledningen her. Afsnit adskilles af en tom linje.",
        "side_heading": "Billede ved siden af tekst",
        "side": "Billedet (270 px bredt) står ved siden af teksten på computeren og over den "
        "på mobilen.",
        "text_heading": "Tekst med liste og tabel",
        "items": ("et punkt", "et punkt mere"),
        "table": ("Hvad", "Hvornår", "Møde", "1. oktober"),
        "links": "Links skrives med hele adressen: [vores hjemmeside](https://www.example.dk/).",
        "calendar": "Kalender",
        "event": ("Partnerskabsmøde", "kl. 10–12", "Odense"),
        "facts": "Korte fakta i en boks.",
        "contact": ("Fornavn Efternavn", "Koordinator"),
        "person": ("navn@example.dk", "+45 00 00 00 00"),
        "web": "https://www.example.dk/",
        "files": (
            "01-indledning",
            "02-linje",
            "03-billede-og-tekst",
            "04-tekst",
            "05-kalender",
            "06-fakta",
            "07-kontakt",
        ),
    },
    "en": {
        "title": "Newsletter",
        "preheader": "One sentence that makes people read on; inboxes show it after the subject.",
        "subject": "Subject line (default: title and number)",
        "describe": "Describe the picture for people who cannot see it",
        "button": "Read the whole programme",
        "intro_heading": "Heading of the introduction",
        "intro": "Write the introduction here. Separate paragraphs with an empty line.",
        "side_heading": "Picture beside text",
        "side": "The picture (270 px wide) stands beside the text on a computer and above it "
        "on a phone.",
        "text_heading": "Text with a list and a table",
        "items": ("one point", "another point"),
        "table": ("What", "When", "Meeting", "1 October"),
        "links": "Links are written with the whole address: [our website](https://www.example.com/).",
        "calendar": "Calendar",
        "event": ("Partnership meeting", "10:00–12:00", "York"),
        "facts": "Short facts in a box.",
        "contact": ("First Last", "Coordinator"),
        "person": ("name@example.com", "+44 0000 000000"),
        "web": "https://www.example.com/",
        "files": (
            "01-introduction",
            "02-divider",
            "03-picture-and-text",
            "04-text",
            "05-calendar",
            "06-facts",
            "07-contact",
        ),
    },
}


def _files(title: str, number: str, language: str, today: dt.date) -> dict[str, str]:
    t = SAMPLE_TEXT[language]
    event_day = (today + dt.timedelta(days=30)).isoformat()
    what, when, meeting, day = t["table"]
    intro, line, side, text, calendar, facts, contact = (f"{n}.md" for n in t["files"])
    email, phone = t["person"]
    return {
        "issue.md": f"""---
title: {title}
issue: "{number}"
date: {today.isoformat()}
preheader: {t["preheader"]}
language: {language}
list: {DEFAULT_LIST}
# subject: {t["subject"]}
---
""",
        intro: f"""---
layout: article
image: images/hero.png
image_alt: {t["describe"]}
button_text: {t["button"]}
button_url: {t["web"]}
---
# {t["intro_heading"]}

{t["intro"]}
""",
        line: "---\nlayout: divider\n---\n",
        side: f"""---
layout: image-text
image: images/bild.png
image_alt: {t["describe"]}
image_side: left
---
## {t["side_heading"]}

{t["side"]}
""",
        text: f"""---
layout: text
---
## {t["text_heading"]}

- {t["items"][0]}
- {t["items"][1]}

| {what} | {when} |
|---|---|
| {meeting} | {day} |

{t["links"]}
""",
        calendar: f"""---
layout: events
title: {t["calendar"]}
events:
  - date: {event_day}
    title: {t["event"][0]}
    time: {t["event"][1]}
    place: {t["event"][2]}
---
""",
        facts: f"---\nlayout: facts\n---\n{t['facts']}\n",
        contact: f"""---
layout: contact
name: {t["contact"][0]}
role: {t["contact"][1]}
phone: {phone}
email: {email}
---
""",
    }


def issue_number(slug: str, today: dt.date) -> str:
    """ "2026:3" from a slug such as 2026-3; otherwise this year's first number, to be edited."""
    match = re.match(r"^(\d{4})-(\d{1,3})(?:-|$)", slug)
    return f"{match[1]}:{match[2]}" if match else f"{today.year}:1"


def scaffold_issue(
    newsletters_dir: Path,
    slug: str,
    *,
    language: str = "sv",
    title: str | None = None,
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
    number = issue_number(slug, today)
    title = title or SAMPLE_TEXT[language]["title"]
    (target / "images").mkdir(parents=True)
    for name, text in _files(title, number, language, today).items():
        (target / name).write_text(text, encoding="utf-8")
    site_file = Path(newsletters_dir) / "newsletter.yml"
    if not site_file.exists():
        site_file.write_text(SITE_TEMPLATES[language], encoding="utf-8")
    (target / "images" / "hero.png").write_bytes(
        gradient_png(600, 290, (196, 226, 232), (15, 94, 110))
    )
    (target / "images" / "bild.png").write_bytes(
        gradient_png(270, 160, (246, 240, 226), (232, 163, 61))
    )
    return target


# Sample values that are the scaffold's and nobody's real text (buttons, table cells and
# calendar entries are left out: real issues say such things too).
SAMPLE_KEYS = (
    "preheader",
    "describe",
    "intro_heading",
    "intro",
    "side_heading",
    "side",
    "text_heading",
    "facts",
)
SITE_SAMPLE_KEYS = ("organisation", "address", "phone")


def sample_phrases() -> tuple[str, ...]:
    """Every sentence of sample text `newsletter new` writes, in all languages, longest first.

    The check refuses an issue that still holds one: a scaffold mailed as it is was the
    fault this catches. Sentences are matched on their own, so deleting half of a sample
    paragraph does not hide the other half.
    """
    phrases: set[str] = set()
    for template in SITE_TEMPLATES.values():
        for line in template.splitlines():
            key, _, value = line.partition(":")
            if key in SITE_SAMPLE_KEYS and value.strip():
                phrases.add(value.strip())
    for texts in SAMPLE_TEXT.values():
        values = [texts[key] for key in SAMPLE_KEYS] + [texts["contact"][0]]
        for value in values:
            for sentence in re.split(r"(?<=[.;])\s+", value):
                if len(sentence.strip()) >= 10:
                    phrases.add(sentence.strip())
    return tuple(sorted(phrases, key=len, reverse=True))
