"""The layouts and keys of issue 15: small-print, partners, contacts, image_url, subtitle,
tables; and the defects it lists that show in the built files (not in a browser)."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from mailer.compose.build import build_issue
from mailer.compose.issue import read_issue
from mailer.compose.markup import parse, to_html
from mailer.compose.tables import plan_table
from mailer.errors import IssueError
from tests.fixtures_compose import EXAMPLE_SLUGS, ISSUE_MD, SITE_YML, compose_settings

PARTNERS = """\
---
layout: partners
title: Partner
partners:
  - image: images/a.png
    alt: Alfa kommun
    url: https://www.example.se/alfa
  - image: images/b.png
    alt: Beta högskola
---
"""
CONTACTS = """\
---
layout: contact
contacts:
  - name: Anna Lindström-Åkerblad
    role: Samordnare för regionens partnerskap och nätverk
    organisation: Region Örebro län
    phone: 019-10 20 30
    email: anna.lindstrom-akerblad@example.se
    image: images/a.png
    image_alt: Porträtt av Anna
  - name: Bo Ek
    email: bo.ek@example.se
---
"""
SMALL_PRINT = """\
---
layout: small-print
lang: en
---
Co-funded by the European Union.
"""
LINKED_IMAGE = """\
---
layout: article
image: images/a.png
image_alt: En karta över länet
image_url: https://www.example.se/karta
---
# Kartan
"""
IMAGES = {"a.png": (400, 120), "b.png": (300, 150)}


def built(issue_factory, sections, **kw):
    issue = issue_factory(sections=sections, images=IMAGES, **kw)
    result = build_issue(issue, compose_settings())
    root = lxml_html.parse(str(result.html_path)).getroot()
    return result, root, result.text_path.read_text(encoding="utf-8")


def test_partner_logos_are_a_row_with_alt_text_and_optional_links(issue_factory):
    _, root, text = built(issue_factory, {"01-partner.md": PARTNERS})
    row = root.xpath("//tr[@data-section='01-partner.md']")[0]
    images = row.xpath(".//img")
    assert [i.get("alt") for i in images] == ["Alfa kommun", "Beta högskola"]
    assert all(int(i.get("height")) <= 64 for i in images)
    assert [a.get("href") for a in row.xpath(".//a")] == ["https://www.example.se/alfa"]
    ghost = [c.text for c in row.iter(lxml_html.etree.Comment) if 'td width="270"' in c.text]
    assert len(ghost) == 2  # Outlook: one cell per logo
    assert "- Alfa kommun (https://www.example.se/alfa)\n- Beta högskola\n" in text


@pytest.mark.parametrize(
    ("partners", "message"),
    [
        ("  - image: images/a.png\n    alt: Ett\n", "2 to 4 logos"),
        ("  - image: images/a.png\n    alt: A\n" * 5, "2 to 4 logos"),
        ("  - image: images/a.png\n  - image: images/b.png\n    alt: B\n", "needs image and alt"),
        (
            "  - image: images/a.png\n    alt: A\n    link: x\n"
            "  - image: images/b.png\n    alt: B\n",
            "unknown key 'link'",
        ),
    ],
)
def test_a_partner_row_is_checked_where_it_is_written(issue_factory, partners, message):
    section = f"---\nlayout: partners\npartners:\n{partners}---\n"
    with pytest.raises(IssueError, match=message) as caught:
        read_issue(issue_factory(sections={"01-p.md": section}, images=IMAGES))
    assert "01-p.md:" in str(caught.value)


def test_several_contacts_stand_in_columns_and_wrap_at_72_in_the_text(issue_factory):
    _, root, text = built(issue_factory, {"01-kontakt.md": CONTACTS})
    columns = root.xpath("//div[@class='contact-col']")
    assert len(columns) == 2
    assert columns[0].xpath(".//img/@width") == ["56"]
    assert "Bo Ek" in columns[1].text_content()
    assert all(len(line) <= 72 for line in text.splitlines()), text
    assert "Anna Lindström-Åkerblad, Samordnare för regionens partnerskap och" in text


def test_a_contact_needs_a_name_or_a_list_of_people(issue_factory):
    section = "---\nlayout: contact\ncontacts:\n  - role: Samordnare\n---\n"
    with pytest.raises(IssueError, match="each contact needs a name"):
        read_issue(issue_factory(sections={"01-k.md": section}, images={}))
    with pytest.raises(IssueError, match="needs 'name'"):
        read_issue(
            issue_factory(sections={"01-k.md": "---\nlayout: contact\n---\n"}, images={}, slug="b")
        )


def test_small_print_carries_its_own_language(issue_factory):
    _, root, text = built(issue_factory, {"01-a.md": "# Hej\n", "02-smatt.md": SMALL_PRINT})
    cell = root.xpath("//td[contains(@class, 'small-print')]")[0]
    assert cell.get("lang") == "en" and root.get("lang") == "sv"
    assert "Co-funded by the European Union." in text
    bad = SMALL_PRINT.replace("lang: en", "lang: english please")
    with pytest.raises(IssueError, match="not a language tag"):
        read_issue(issue_factory(sections={"01-s.md": bad}, images={}, slug="b"))


def test_an_image_can_be_a_link_and_the_text_shows_where_it_leads(issue_factory):
    _, root, text = built(issue_factory, {"01-karta.md": LINKED_IMAGE})
    link = root.xpath("//td[contains(@class, 'hero')]/a")[0]
    assert link.get("href") == "https://www.example.se/karta"
    assert link.xpath("./img/@alt") == ["En karta över länet"]
    assert "[En karta över länet] https://www.example.se/karta" in text
    no_image = LINKED_IMAGE.replace("image: images/a.png\nimage_alt: En karta över länet\n", "")
    with pytest.raises(IssueError, match="image_url makes the image a link"):
        read_issue(issue_factory(sections={"01-k.md": no_image}, images={}, slug="b"))


def test_a_subtitle_stands_under_the_title_in_the_header_and_the_text(issue_factory):
    issue_md = ISSUE_MD.replace("---\n", "---\nsubtitle: ERUF-projekt 2024–2027\n", 1)
    _, root, text = built(issue_factory, {"01-a.md": "# Hej\n"}, issue_md=issue_md)
    header = root.xpath("//td[contains(@class, 'header')]")[0]
    assert header.xpath(".//p[@class='subtitle']")[0].text == "ERUF-projekt 2024–2027"
    assert text.splitlines()[:2] == ["Testbrevet", "ERUF-projekt 2024–2027"]


def test_a_title_equal_to_the_organisation_is_said_once(issue_factory):
    issue_md = ISSUE_MD.replace("title: Testbrevet", "title: Testföreningen i Orten")
    _, root, text = built(issue_factory, {"01-a.md": "# Hej\n"}, issue_md=issue_md)
    header = root.xpath("//td[contains(@class, 'header')]")[0].text_content()
    assert header.count("Testföreningen i Orten") == 1
    footer = root.xpath("//td[contains(@class, 'footer')]")[0].text_content()
    assert "prenumererar på Testföreningen i Orten." in " ".join(footer.split())
    assert "från Testföreningen" not in footer
    assert text.split("\n\n")[0].count("Testföreningen i Orten") == 1


def test_danish_dates_have_periods_in_the_header_and_the_calendar(issue_factory):
    issue_md = ISSUE_MD.replace("language: sv", "language: da").replace(
        "date: 2026-03-01", "date: 2020-11-10"
    )
    events = (
        "---\nlayout: events\nevents:\n  - date: 2021-01-15\n    title: Møde\n"
        "  - date: 2021-02-04\n    end: 2021-02-05\n    title: Seminar\n---\n"
    )
    _, root, text = built(issue_factory, {"01-k.md": events}, issue_md=issue_md)
    kicker = root.xpath("//p[contains(@class, 'kicker')]")[0].text_content()
    assert "10. november 2020" in kicker
    days = [d.text_content() for d in root.xpath("//div[contains(@class, 'event-day')]")]
    months = [m.text_content() for m in root.xpath("//div[contains(@class, 'event-month')]")]
    assert days == ["15.", "4.–5."] and months == ["jan.", "feb."]
    assert re.search(r"^15\. jan\. +Møde$", text, re.M) and "4.–5. feb." in text


def test_funding_text_is_indented_only_beside_a_logo(issue_factory):
    site = SITE_YML + "funding_text: Medfinansieras av Europeiska unionen.\n"
    _, root, _ = built(issue_factory, {"01-a.md": "# Hej\n"}, site=site)
    cell = root.xpath("//td[contains(@class, 'funding-text')]")[0]
    assert "padding-left" not in (cell.get("style") or "")


def test_the_header_logo_and_photos_have_styled_alt_text_for_blocked_images(issue_factory):
    _, root, _ = built(issue_factory, {"01-karta.md": LINKED_IMAGE})
    hero = root.xpath("//td[contains(@class, 'hero')]//img")[0].get("style").replace(" ", "")
    assert "background:#dfe8ea" in hero and "text-align:center" in hero


# --- tables ---------------------------------------------------------------------------------


def table_plan(markdown: str, requested: str = "auto", width: int = 280):
    tokens = parse(markdown)
    start = next(i for i, t in enumerate(tokens) if t.type == "table_open")
    return plan_table(tokens, start, requested, width)


def test_tables_are_kept_scaled_or_stacked_by_the_width_their_words_need():
    narrow = "| Dag | Tid |\n|---|---|\n| Tisdag | 10–12 |\n"
    figures = (
        "| Indikator | Mål | Status | Andel |\n|---|---:|---:|---:|\n"
        "| Nya samarbetsavtal | 12 | 5 | 42 % |\n"
    )
    counties = (
        "| Län | Invånare | Kommuner | Arbetslöshet | Förändring | Residensstad |\n"
        "|---|---:|---:|---:|---:|---|\n"
        "| Västernorrlands län | 244 193 | 7 | 7,1 % | −0,4 | Härnösand |\n"
    )
    assert table_plan(narrow).mode == "fit"
    assert table_plan(figures).mode == "scale"
    plan = table_plan(counties)
    assert (plan.mode, plan.compact) == ("stack", True)
    assert plan.headers[0] == "Län" and "md-stack" in plan.css_class
    assert table_plan(narrow, "stack").mode == "stack"  # the editor's choice wins
    forced = table_plan(counties, "scale")
    assert forced.mode == "scale" and forced.breaks  # words may break rather than overflow


def test_a_stacked_table_repeats_each_header_but_the_first_in_a_cell_hidden_outside_phones():
    counties = (
        "| Län | Invånare | Kommuner | Arbetslöshet | Förändring | Residensstad |\n"
        "|---|---:|---:|---:|---:|---|\n"
        "| Västernorrlands län | 244 193 | 7 | 7,1 % | −0,4 | Härnösand |\n"
    )
    html = to_html(parse(counties), lambda name: ("", 1, 1))
    root = lxml_html.fromstring(html)
    labels = root.xpath("//td/span[@class='stack-label']")
    # the first cell is the card's title on a phone (bold), not "Län: ..." on every card
    assert [span.text for span in labels][:2] == ["Invånare: ", "Kommuner: "]
    assert root.xpath("//td")[0].get("class") == "stack-first"
    assert all(
        "display: none" in s.get("style") and "mso-hide: all" in s.get("style") for s in labels
    )
    assert "white-space:nowrap" in root.xpath("//td")[1].get("style")  # "244 193" whole


def test_an_unknown_tables_value_is_refused_with_the_choices(issue_factory):
    section = "---\nlayout: text\ntables: shrink\n---\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    with pytest.raises(IssueError, match="tables 'shrink': use auto") as caught:
        read_issue(issue_factory(sections={"01-t.md": section}, images={}))
    assert "01-t.md:3" in str(caught.value)


@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_plain_text_lines_of_every_example_fit_72_columns(compose_examples, slug):
    """Longer only when one address cannot be broken (a URL, or a link filled in per reader)."""
    text = compose_examples[slug].text_path.read_text(encoding="utf-8")
    for line in text.splitlines():
        if len(line) > 72:
            last = line.split()[-1]
            assert last.startswith(("https://", "%%")) and len(line) - len(last) < 40, line
