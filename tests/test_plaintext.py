"""The plain-text alternative: readable headings, lists, aligned tables, links as URLs."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from mailer.compose.markup import parse
from mailer.compose.plaintext import WIDTH, to_text
from tests.fixtures_compose import EXAMPLE_SLUGS


def text_of(markdown: str) -> str:
    return to_text(parse(markdown))


def test_headings_are_underlined_by_level():
    assert text_of("# Stor\n\n## Mindre\n\n### Liten\n") == (
        "Stor\n====\n\nMindre\n------\n\nLiten"
    )


def test_paragraphs_wrap_at_72_without_breaking_urls():
    url = "https://www.example.se/" + "lang-sokvag/" * 8
    text = text_of(("ord " * 40) + url + " slut\n")
    lines = text.split("\n")
    assert all(len(line) <= WIDTH for line in lines if url not in line)
    assert any(url in line for line in lines)


def test_list_items_keep_markers_and_indent_wrapped_lines():
    text = text_of("- kort\n- " + "lång rad " * 12 + "\n\n3. tre\n4. fyra\n")
    lines = text.split("\n")
    assert lines[0] == "- kort"
    assert lines[1].startswith("- lång") and lines[2].startswith("  ")
    assert lines[2][2] != " "  # continuation lines line up with the item text
    assert "3. tre" in lines and "4. fyra" in lines


def test_table_columns_line_up_and_right_aligned_columns_stay_right():
    text = text_of("| Region | Antal |\n|---|---:|\n| Katalonien | 5 |\n| Pest | 12 |\n")
    lines = text.split("\n")
    assert lines[0] == "Region      Antal"
    assert set(lines[1]) == {"-", " "}
    assert lines[2] == "Katalonien      5"
    assert lines[3] == "Pest           12"


def test_a_table_too_wide_for_72_columns_becomes_one_block_per_row():
    long = "Ansvarar för partnerskapets möten, nyhetsbrevet och kontakten med kommunerna"
    rows = f"| Anna Berg | Samordnare | {long} |\n| Bo Ek | Kassör | Pengar |\n"
    text = text_of("| Namn | Roll | Uppdrag |\n|---|---|---|\n" + rows)
    assert all(len(line) <= WIDTH for line in text.split("\n"))
    first, second = text.split("\n\n")
    assert first.split("\n")[:2] == ["Namn: Anna Berg", "Roll: Samordnare"]
    assert first.split("\n")[3].startswith("  ")  # the long value wraps, indented
    assert second == "Namn: Bo Ek\nRoll: Kassör\nUppdrag: Pengar"


def test_links_become_text_and_url_and_bare_urls_stay_bare():
    text = text_of(
        "Se [vår sida](https://www.example.se/a), <https://www.example.se/b>, "
        "[info@example.se](mailto:info@example.se) och [ring](tel:+4619102030).\n"
    )
    assert "vår sida (https://www.example.se/a)" in text
    assert "https://www.example.se/b" in text and "(https://www.example.se/b)" not in text
    assert "info@example.se" in text and "mailto:" not in text
    assert "ring (+4619102030)" in text


def test_no_markup_is_left_over():
    text = text_of("**fet** *kursiv* `kod` ~~struken~~ [länk](https://x.se)\n\n> citat\n")
    assert not re.search(r"\*\*|\]\(|<|`|~~", text)
    assert "> citat" in text  # quotes keep the mail convention


def test_hard_line_break_is_kept():
    assert text_of("Varma hälsningar,\\\n*Arbetsutskottet*\n") == (
        "Varma hälsningar,\nArbetsutskottet"
    )


# --- the built examples -------------------------------------------------------------------


@pytest.fixture(params=EXAMPLE_SLUGS)
def built(request, compose_examples):
    return compose_examples[request.param]


def test_email_txt_has_no_markup_or_preheader_filler(built):
    text = built.text_path.read_text(encoding="utf-8")
    assert not re.search(r"\*\*|\]\(|<[a-z/!]|&[a-z]+;|&#", text)
    assert "\u200c" not in text and "\xa0" not in text  # the inbox-preview filler
    assert built.meta["preheader"] not in text
    assert all(len(line) <= WIDTH or "://" in line or "@" in line for line in text.split("\n"))


def test_email_txt_shows_every_section_heading_and_link_url(built):
    text = built.text_path.read_text(encoding="utf-8")
    root = lxml_html.parse(str(built.html_path)).getroot()
    for row in root.xpath("//tr[@data-section]"):
        for heading in row.xpath(".//h2 | .//h3"):
            assert " ".join(heading.text_content().split()) in text
        for link in row.xpath(".//a[@href]"):
            href = link.get("href")
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            assert href in text or shown in text or link.text_content().strip() in text, href


def test_email_txt_has_the_footer_and_per_recipient_placeholders(built):
    text = built.text_path.read_text(encoding="utf-8")
    assert built.meta["organisation"] in text
    assert built.meta["web_url"] in text
    for name in ("email", "unsubscribe_url", "preferences_url"):
        assert f"%%{name}%%" in text


def test_events_are_listed_as_aligned_date_columns(compose_examples):
    text = compose_examples["2018-2"].text_path.read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if re.match(r"\d+ [a-z]{3}  ", line)]
    assert [line.split()[0:2] for line in lines] == [["15", "aug"], ["19", "sep"], ["29", "nov"]]
    starts = {len(line) - len(line[8:].lstrip()) for line in lines}
    assert len(starts) == 1  # titles start in one column
