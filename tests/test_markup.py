"""Markdown to email HTML fragments: escaping, heading levels, images, tables, link checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from mailer.compose.markup import CONTENT_WIDTH, check_links_and_images, parse, to_html
from mailer.errors import IssueError

BASE = "https://news.example.se/archive/2026-1/images/"


def image_lookup(name: str) -> tuple[str, int, int]:
    return BASE + name, 1200, 600


def fragment(markdown: str):
    """The rendered fragment parsed into an element tree (wrapped in one <div>)."""
    return lxml_html.fragment_fromstring(
        to_html(parse(markdown), image_lookup), create_parent="div"
    )


def check(markdown: str, body_line: int = 1) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    check_links_and_images(
        parse(markdown),
        markdown,
        Path("03-text.md"),
        body_line,
        lambda ref, line: seen.append((ref, line)),
    )
    return seen


def test_raw_html_in_markdown_is_shown_as_text_not_markup():
    root = fragment('Hej <script>alert(1)</script> och <b onclick="x">fet</b>\n')
    assert root.xpath("//script | //b") == []
    assert "<script>alert(1)</script>" in root.text_content()


def test_markdown_headings_move_one_level_down_below_the_issue_title():
    root = fragment("# Ett\n\n## Två\n\n### Tre\n\n#### Fyra\n")
    assert [el.tag for el in root] == ["h2", "h3", "h4", "h4"]
    assert root[0].get("class") == "md-h2"


def test_image_gets_absolute_url_unitless_width_and_alt():
    root = fragment("![Ett foto av en sjö](images/sjo.jpg)\n")
    img = root.xpath("//img")[0]
    assert img.get("src") == BASE + "sjo.jpg"
    assert img.get("width") == str(CONTENT_WIDTH)  # 1200 px wide file shown at the text width
    assert img.get("height") == str(CONTENT_WIDTH // 2)
    assert img.get("alt") == "Ett foto av en sjö"
    assert "max-width:540px" in img.get("style")


def test_pipe_table_becomes_a_full_width_data_table():
    root = fragment("| Region | Land |\n|---|---:|\n| Pest | Ungern |\n")
    table = root.xpath("//table")[0]
    assert table.get("class") == "md-table" and table.get("width") == "100%"
    assert [th.text_content() for th in table.xpath(".//th")] == ["Region", "Land"]
    assert "right" in table.xpath(".//td")[1].get("style")


def test_lists_quotes_links_and_emphasis_render_as_html():
    root = fragment("- ett\n- två\n\n> citat\n\n**fet** [länk](https://www.example.se/)\n")
    assert len(root.xpath("//ul/li")) == 2
    assert root.xpath("//blockquote")[0].get("class") == "md-quote"
    assert root.xpath("//strong")[0].text == "fet"
    assert root.xpath("//a")[0].get("href") == "https://www.example.se/"


def test_placeholder_markers_pass_through_markdown_unchanged():
    root = fragment("Hej %%name|vän%%!\n")
    assert root.text_content().strip() == "Hej %%name|vän%%!"


@pytest.mark.parametrize(
    "link",
    [
        "https://www.example.se/a",
        "http://example.se",
        "mailto:info@example.se",
        "tel:+4619102030",
    ],
)
def test_absolute_links_pass_the_check(link):
    assert check(f"Se [här]({link}).\n") == []


@pytest.mark.parametrize("link", ["/sida", "sida.html", "www.example.se", "#top", ""])
def test_relative_or_empty_link_is_refused_with_its_line(link):
    text = f"Första raden.\n\nAndra stycket\nmed [en länk]({link}) i.\n"
    with pytest.raises(IssueError, match=r"03-text\.md:14: link .* is relative or empty"):
        check(text, body_line=11)


def test_images_are_reported_with_their_file_line():
    seen = check("Text\n\n![Karta](images/karta.png)\n\nMer\n![Foto](images/foto.jpg)\n", 5)
    assert seen == [("images/karta.png", 7), ("images/foto.jpg", 10)]


def test_image_outside_the_images_folder_is_refused():
    with pytest.raises(IssueError, match=r"03-text\.md:1: image 'https://x\.se/a\.png'"):
        check("![Bild](https://x.se/a.png)\n")
