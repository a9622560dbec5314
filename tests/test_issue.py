"""Reading an issue folder: front matter, sections in filename order, layouts and their keys."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from mailer.compose.issue import LAYOUT_KEYS, read_issue
from mailer.errors import IssueError
from tests.fixtures_compose import ISSUE_MD, PROJECT_ROOT, SECTIONS

ALL_LAYOUTS = {
    "01-artikel.md": """\
---
layout: article
title: Rubrik ovanför
image: images/hero.png
image_alt: En blå himmel
button_text: Läs vidare om saken
button_url: https://www.example.se/mer
---
# Artikel

Text.
""",
    "02-bild.md": """\
---
layout: image-text
image: images/side.png
image_alt: En bild på sidan
image_side: right
---
Text bredvid bilden.
""",
    "03-linje.md": "---\nlayout: divider\n---\n",
    "04-kalender.md": """\
---
layout: events
title: Kalender
events:
  - date: 2026-04-01
    end: 2026-04-02
    title: Möte
    time: kl. 10
    place: Orten
    url: https://www.example.se/mote
  - date: Hösten 2026
    title: Stormöte
---
""",
    "05-fakta.md": "---\nlayout: facts\ntitle: Om oss\n---\n- Bildades 2014\n",
    "06-integritet.md": "---\nlayout: privacy\n---\nVi sparar bara din adress.\n",
    "07-kontakt.md": """\
---
layout: contact
name: Lena Berg
role: Samordnare
organisation: Föreningen
phone: 0704331711
email: lena@example.se
web: https://www.example.se/
image: images/lena.png
image_alt: Porträtt av Lena
---
Hör av dig!
""",
    "085-partner.md": """\
---
layout: partners
partners:
  - image: images/side.png
    alt: Regionen
    url: https://www.example.se/region
  - image: images/hero.png
    alt: Kommunen
---
""",
    "086-smatt.md": """\
---
layout: small-print
lang: en
---
The partnership is funded by the EU.
""",
    "08-text.md": """\
---
layout: text
button_url: https://www.example.se/text
button_text: Mer om texten
---
| A | B |
|---|--:|
| x | 1 |

> Citat
""",
    "09-utan-front-matter.md": "Bara text, layout article som standard.\n",
}
ALL_IMAGES = {"hero.png": (1200, 580), "side.png": (540, 320), "lena.png": (176, 176)}


def with_section(name: str, text: str) -> dict[str, str]:
    return {**SECTIONS, name: text}


def error_of(issue_factory, **kw) -> str:
    issue_dir = issue_factory(**kw)
    with pytest.raises(IssueError) as caught:
        read_issue(issue_dir)
    return str(caught.value)


def test_issue_front_matter_keys_are_read_as_text_and_date(issue_factory):
    issue = read_issue(issue_factory())
    assert issue.title == "Testbrevet"
    assert issue.number == "2026:1"
    assert issue.date == dt.date(2026, 3, 1)
    assert issue.preheader.startswith("Det här numret")
    assert (issue.language, issue.list_name, issue.slug) == ("sv", "nyhetsbrev", "2026-1")
    assert issue.subject == "Testbrevet 2026:1"  # default subject: title and number


def test_unquoted_issue_number_and_phone_stay_as_written(issue_factory):
    """YAML 1.1 would read 2018:2 as base-60 and 0704331711 as octal; the loader does not."""
    issue_md = ISSUE_MD.replace('issue: "2026:1"', "issue: 2018:2").replace(
        "list: nyhetsbrev", "list: nyhetsbrev\nphone: 0704331711\nsubject: 'Ämne: sommar'"
    )
    issue = read_issue(issue_factory(issue_md=issue_md))
    assert issue.number == "2018:2"
    assert issue.site["phone"] == "0704331711"
    assert issue.subject == "Ämne: sommar"


def test_issue_md_overrides_newsletter_yml_keys(issue_factory):
    issue_md = ISSUE_MD.replace("---\n", "---\norganisation: Annan förening\n", 1)
    issue = read_issue(issue_factory(issue_md=issue_md))
    assert issue.site["organisation"] == "Annan förening"
    assert issue.site["address"] == "Box 1, 111 11 Orten"  # the rest still from newsletter.yml


def test_sections_are_read_in_filename_order_and_other_files_ignored(issue_factory):
    sections = {
        "10-sist.md": "Sist.\n",
        "02-mitten.md": "Mitten.\n",
        "01-forst.md": "Först.\n",
    }
    issue_dir = issue_factory(sections=sections, images={})
    (issue_dir / "notes.txt").write_text("not a section", encoding="utf-8")
    issue = read_issue(issue_dir)
    assert [s.name for s in issue.sections] == ["01-forst.md", "02-mitten.md", "10-sist.md"]
    assert all(s.layout == "article" for s in issue.sections)


def test_every_layout_with_its_keys_is_read(issue_factory):
    issue = read_issue(issue_factory(sections=ALL_LAYOUTS, images=ALL_IMAGES))
    by_layout = {}
    for section in issue.sections:
        by_layout.setdefault(section.layout, section)
    assert set(by_layout) == set(LAYOUT_KEYS)
    article = by_layout["article"]
    assert article.options["title"] == "Rubrik ovanför"
    assert (article.image.width, article.image.height) == (1200, 580)
    assert article.options["button_url"] == "https://www.example.se/mer"
    assert by_layout["image-text"].options["image_side"] == "right"
    events = by_layout["events"].options["events"]
    assert events[0]["date"] == dt.date(2026, 4, 1) and events[0]["end"] == dt.date(2026, 4, 2)
    assert events[1] == {"date": "Hösten 2026", "title": "Stormöte"}
    contact = by_layout["contact"].options
    assert (contact["name"], contact["phone"]) == ("Lena Berg", "0704331711")
    assert sorted(issue.images) == ["hero.png", "lena.png", "side.png"]
    assert [s.name for s in issue.sections][-1] == "09-utan-front-matter.md"


def test_section_body_line_counts_from_the_file_start(issue_factory):
    issue = read_issue(issue_factory())
    intro = issue.sections[0]
    assert intro.body.lstrip().startswith("# Välkommen")
    assert intro.body_line == 8  # 7 lines of front matter


def test_image_text_defaults_to_image_on_the_left(issue_factory):
    text = "---\nlayout: image-text\nimage: images/hero.png\nimage_alt: Bild\n---\nText\n"
    issue = read_issue(issue_factory(sections={"01-a.md": text}))
    assert issue.sections[0].options["image_side"] == "left"


def test_utf8_bom_and_windows_line_endings_are_accepted(issue_factory):
    issue_dir = issue_factory()
    path = issue_dir / "02-text.md"
    path.write_bytes(b"\xef\xbb\xbf" + SECTIONS["02-text.md"].replace("\n", "\r\n").encode())
    section = read_issue(issue_dir).sections[1]
    assert section.layout == "text" and "\r" not in section.body


# --- bad input: each names the file and the line -------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("---\nlayout: text\ntitle: [open\n---\nx\n", 3, "not closed with ']'"),
        ("---\nlayout: text\n\nx\n", 1, "never closed"),
        ("---\nlayout: gallery\n---\nx\n", 2, "unknown layout 'gallery'"),
        ("---\nlayout: text\nbutton_txt: Gå\n---\nx\n", 3, "did you mean 'button_text'"),
        ("---\nlayout: image-text\nimage_alt: Bild\n---\nx\n", 2, "needs 'image'"),
        ("---\nlayout: contact\nrole: Samordnare\n---\n", 2, "needs 'name'"),
        ("---\nlayout: events\n---\n", 2, "needs 'events'"),
        ("---\nlayout: article\nimage: images/nope.png\nimage_alt: x\n---\n", 3, "not found"),
        ("---\nlayout: article\nimage: images/hero.png\n---\nx\n", 3, "image_alt"),
        ("---\nlayout: article\nimage: ../hero.png\nimage_alt: x\n---\n", 3, "images folder"),
        ("Text\n\n![Bild](images/nope.png)\n", 3, "not found"),
        ("Text\n\n![](images/hero.png)\n", 3, "no alt text"),
        ("Text\n\n![Bild](hero.png)\n", 3, "images/ folder"),
        ("---\nlayout: text\n---\nSe\n[här](/sida) nu.\n", 5, "relative"),
        ("Se [här](www.example.se).\n", 1, "relative"),
        ("---\nlayout: text\nbutton_url: /sida\n---\nx\n", 3, "not absolute"),
        ("---\nlayout: text\nbutton_text: Gå\n---\nx\n", 3, "button_text needs button_url"),
        ("---\nlayout: divider\n---\nText\n", 4, "divider has no text"),
        (
            "---\nlayout: image-text\nimage: images/hero.png\nimage_alt: B\nimage_side: up\n---\n",
            5,
            "left or right",
        ),
        ("---\nlayout: events\nevents:\n  - title: Utan datum\n---\n", 4, "date and title"),
        (
            "---\nlayout: events\nevents:\n  - date: 2026-01-01\n    title: A\n    rum: B\n---\n",
            4,
            "unknown event key 'rum'",
        ),
        ("---\nlayout: contact\nname: A\nweb: www.example.se\n---\n", 4, "not absolute"),
    ],
)
def test_bad_section_raises_issue_error_naming_file_and_line(issue_factory, text, line, words):
    message = error_of(issue_factory, sections=with_section("03-fel.md", text))
    assert f"03-fel.md:{line}:" in message
    assert words.replace("not absolute", "is not an absolute link") in message


def test_undecodable_section_text_names_the_line(issue_factory):
    issue_dir = issue_factory()
    raw = "---\nlayout: text\n---\nRad ett\nRäksmörgås\n".encode("latin-1")
    (issue_dir / "03-fel.md").write_bytes(raw)
    with pytest.raises(IssueError, match=r"03-fel\.md:5: not UTF-8 text \(byte 0xe4\)"):
        read_issue(issue_dir)


def test_undecodable_issue_md_and_site_file_are_reported(issue_factory):
    issue_dir = issue_factory()
    (issue_dir / "issue.md").write_bytes(
        ISSUE_MD.replace("Testbrevet", "Brev\xe5").encode("cp1252")
    )
    with pytest.raises(IssueError, match=r"issue\.md:2: not UTF-8"):
        read_issue(issue_dir)
    (issue_dir / "issue.md").write_text(ISSUE_MD, encoding="utf-8")
    (issue_dir.parent / "newsletter.yml").write_bytes(b"organisation: F\xf6reningen\n")
    with pytest.raises(IssueError, match=r"newsletter\.yml:1: not UTF-8"):
        read_issue(issue_dir)


@pytest.mark.parametrize("key", ["title", "issue", "preheader", "language", "list"])
def test_missing_required_issue_key_is_named(issue_factory, key):
    issue_md = re.sub(rf"(?m)^{key}:.*\n", "", ISSUE_MD)
    message = error_of(issue_factory, issue_md=issue_md)
    assert re.search(rf"issue\.md:\d+: '{key}' is empty or missing", message)


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("language: sv", "language: no", "issue.md:6: language 'no'"),
        ("date: 2026-03-01", "date: 1 mars", "issue.md:4: date '1 mars' is not a date"),
        ("list: nyhetsbrev", "list: nyhetsbrev\nsubjekt: x", "issue.md:8: unknown key 'subjekt'"),
        ("title: Testbrevet", "title: [open", "issue.md:2: the front matter cannot be read here"),
    ],
)
def test_bad_issue_md_value_names_the_line(issue_factory, old, new, words):
    assert words in error_of(issue_factory, issue_md=ISSUE_MD.replace(old, new))


def test_text_in_issue_md_body_is_refused(issue_factory):
    assert "issue.md:10: issue.md holds only front matter" in error_of(
        issue_factory, issue_md=ISSUE_MD + "\nHej!\n"
    )


def test_missing_organisation_is_refused(issue_factory):
    message = error_of(issue_factory, site="address: Box 1\n")
    assert "no organisation for the footer" in message


def test_badly_named_section_file_is_refused(issue_factory):
    assert "intro.md:1: section files are named NN-name.md" in error_of(
        issue_factory, sections={"intro.md": "Hej\n"}
    )


def test_issue_without_sections_is_refused(issue_factory):
    assert "no sections; add files such as 01-intro.md" in error_of(
        issue_factory, sections={}, images={}
    )


def test_upper_case_folder_name_is_refused(issue_factory):
    assert "folder name 'Nummer-1'" in error_of(issue_factory, slug="Nummer-1")


@pytest.mark.parametrize(
    ("site", "words"),
    [
        ("organisation: F\nweb: www.example.se\n", "newsletter.yml:2: web 'www.example.se'"),
        ("organisation: F\nbrand_color: red; x\n", "newsletter.yml:2: brand_color 'red; x'"),
        ("organisation: F\nlogo: assets/saknas.png\n", "newsletter.yml:2: logo: image"),
        ("organisation: F\nfarg: '#000000'\n", "newsletter.yml:2: unknown key 'farg'"),
    ],
)
def test_bad_newsletter_yml_value_names_its_line(issue_factory, site, words):
    assert words in error_of(issue_factory, site=site)


def test_brand_color_and_logo_from_newsletter_yml_are_used(issue_factory, tmp_path):
    site = "organisation: F\nbrand_color: '#aa3300'\nlogo: assets/logo.png\nlogo_alt: F\n"
    issue_dir = issue_factory(site=site)
    (issue_dir.parent / "assets").mkdir()
    (issue_dir.parent / "assets" / "logo.png").write_bytes(
        (issue_dir / "images/hero.png").read_bytes()
    )
    (issue_dir / "images" / "hero.png").rename(issue_dir / "images" / "hero2.png")
    text = SECTIONS["01-intro.md"].replace("hero.png", "hero2.png")
    (issue_dir / "01-intro.md").write_text(text, encoding="utf-8")
    issue = read_issue(issue_dir)
    assert issue.site["brand_color"] == "#aa3300"
    assert issue.site["logo"].path == issue_dir.parent / "assets" / "logo.png"


def test_two_different_images_with_one_name_are_refused(issue_factory):
    site = "organisation: F\nlogo: assets/hero.png\nlogo_alt: F\n"
    issue_dir = issue_factory(site=site)
    (issue_dir.parent / "assets").mkdir()
    (issue_dir.parent / "assets" / "hero.png").write_bytes(b"GIF89a\x01\x00\x01\x00" + b"\0" * 8)
    with pytest.raises(IssueError, match=r"two different images are named hero\.png"):
        read_issue(issue_dir)


def test_issue_format_doc_names_every_key_and_layout():
    from mailer.compose.issue import EVENT_KEYS, ISSUE_KEYS

    doc = (PROJECT_ROOT / "docs" / "issue-format.md").read_text(encoding="utf-8")
    keys = {*ISSUE_KEYS, *EVENT_KEYS, *LAYOUT_KEYS} | {k for v in LAYOUT_KEYS.values() for k in v}
    assert [key for key in sorted(keys) if f"`{key}`" not in doc] == []


SITE_YML = "organisation: Region\naddress: Box 1\nweb: https://x.se\nemail: a@x.se\nphone: 1\n"


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        ("address Box 1", 2, "this line has no ':' after its key"),  # a missing colon on line 2
        ('phone: "019-12 34', 5, "quote is opened and not closed"),  # unclosed quote, line 5
        ("phone: 'Bo's", 5, "text after a closing quote"),
        ("email: Tid: 10:00", 4, "a second ': ' in a value"),
    ],
)
def test_a_yaml_mistake_in_newsletter_yml_is_shown_at_its_own_line_in_plain_words(
    issue_factory, broken, line, words
):
    lines = SITE_YML.splitlines()
    lines[line - 1] = broken
    site = "\n".join(lines) + "\nlogo_alt: 'Region'\n"  # a later quote must not move the line
    message = error_of(issue_factory, site=site)
    assert f"newsletter.yml:{line}: newsletter.yml cannot be read here: " in message
    assert words in message
    assert "scalar" not in message and "mapping" not in message  # no YAML jargon


@pytest.mark.parametrize(
    ("front", "line", "words"),
    [
        ("layout: text\ntitle Hej\nbutton_text: x", 3, "no ':' after its key"),
        ('layout: text\ntitle: Hej\nbutton_text: x\nimage_alt: x\ncaption: "Öppen', 6, "quote"),
    ],
)
def test_a_yaml_mistake_in_front_matter_is_shown_at_its_file_line(
    issue_factory, front, line, words
):
    message = error_of(
        issue_factory, sections=with_section("02-text.md", f"---\n{front}\n---\nx\n")
    )
    assert f"02-text.md:{line}: the front matter cannot be read here" in message
    assert words in message
