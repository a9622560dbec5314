"""`build_issue` on the examples: email.html structure, web.html, meta.json, determinism, i18n."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from mailer.compose.build import GMAIL_CLIP_BYTES, build_issue, is_stale
from mailer.compose.issue import read_issue
from mailer.locale import LANGUAGES, STRINGS, translate
from tests.fixtures_compose import (
    COMPOSE_BASE_URL,
    EXAMPLE_SLUGS,
    ISSUE_MD,
    compose_settings,
    copy_examples,
)

ALL_LAYOUTS = {
    "article",
    "image-text",
    "divider",
    "events",
    "facts",
    "contact",
    "privacy",
    "text",
    "small-print",
    "partners",
}


@pytest.fixture(params=EXAMPLE_SLUGS)
def built(request, compose_examples):
    return compose_examples[request.param]


def parsed(path: Path):
    return lxml_html.parse(str(path)).getroot()


def comments(root) -> list[str]:
    return [c.text or "" for c in root.iter(etree.Comment)]


def inline_style(element) -> str:
    return (element.get("style") or "").replace(" ", "")


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# --- email.html structure -------------------------------------------------------------------


def test_examples_together_use_every_layout(compose_examples):
    used = {s["layout"] for r in compose_examples.values() for s in r.meta["sections"]}
    assert used == ALL_LAYOUTS


def test_email_head_has_lang_charset_viewport_and_color_scheme(built):
    root = parsed(built.html_path)
    assert root.get("lang") == built.meta["language"] in ("sv", "da", "en")
    assert root.xpath("//div[@role='article']/@lang") == [built.meta["language"]]
    assert root.xpath("//meta[@charset]/@charset")[0].lower() == "utf-8"
    assert "width=device-width" in root.xpath("//meta[@name='viewport']/@content")[0]
    assert root.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    assert root.findtext(".//title") == built.meta["subject"]
    assert built.html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_hidden_preheader_comes_first_in_body(built):
    body = parsed(built.html_path).find("body")
    first, filler = body[0], body[1]
    assert first.text_content() == built.meta["preheader"]
    for hidden in (first, filler):
        style = inline_style(hidden)
        assert "display:none" in style and "mso-hide:all" in style and "max-height:0" in style
    assert set(filler.text_content()) == {"\u200c", "\xa0"}


def test_container_is_600_wide_with_an_outlook_ghost_table(built):
    root = parsed(built.html_path)
    container = root.xpath("//div[contains(@class, 'email-container')]")
    assert len(container) == 1 and "max-width:600px" in inline_style(container[0])
    ghost = [c for c in comments(root) if c.startswith("[if mso]") and 'width="600"' in c]
    assert len(ghost) == 1


def test_layout_tables_have_role_presentation_and_data_tables_do_not(built):
    root = parsed(built.html_path)
    for table in root.iter("table"):
        if "md-table" in (table.get("class") or ""):
            assert table.get("role") is None  # a real table for screen readers
        else:
            assert table.get("role") == "presentation", etree.tostring(table)[:120]


def test_image_text_columns_have_fluid_divs_and_mso_ghost_columns(built):
    root = parsed(built.html_path)
    rows = [r for r in built.meta["sections"] if r["layout"] == "image-text"]
    for section in rows:
        row = root.xpath(f"//tr[@data-section='{section['file']}']")[0]
        columns = row.xpath(".//div[contains(@class, 'stack-column')]")
        assert len(columns) == 2
        assert all("display:inline-block" in inline_style(c) for c in columns)
        assert all("max-width:270px" in inline_style(c) for c in columns)
        ghost = [c for c in row.iter(etree.Comment) if 'td width="270"' in (c.text or "")]
        assert len(ghost) == 2


def test_every_image_has_alt_unitless_width_and_an_absolute_url(built):
    root = parsed(built.html_path)
    prefix = f"{COMPOSE_BASE_URL}/archive/{built.meta['slug']}/images/"
    images = root.xpath("//img")
    assert images
    for img in images:
        assert (img.get("alt") or "").strip(), img.get("src")
        assert re.fullmatch(r"\d+", img.get("width") or ""), img.get("width")
        assert re.fullmatch(r"\d+", img.get("height") or "")
        assert int(img.get("width")) <= 600
        assert img.get("src").startswith(prefix)
        assert (built.out_dir / "images" / img.get("src")[len(prefix) :]).is_file()
        assert "height:auto" in inline_style(img)


def test_style_block_keeps_important_in_media_queries(built):
    root = parsed(built.html_path)
    style = "".join(s.text or "" for s in root.iter("style"))
    assert "@media screen and (max-width:599px)" in style
    assert "prefers-color-scheme:dark" in style
    media = re.search(r"@media screen[^{]*\{(.*?\})\}", style).group(1)
    declarations = [d for d in re.split(r"[;{}]", media) if ":" in d]
    assert declarations and all("!important" in d for d in declarations)
    assert built.meta["sizes"]["style_block"] < 16 * 1024


def test_css_is_inlined_into_style_attributes(built):
    root = parsed(built.html_path)
    for td in root.xpath("//td[contains(@class, 'section')]"):
        assert "padding" in inline_style(td)
    assert root.xpath("//link[@rel='stylesheet']") == []


def test_buttons_are_bulletproof_table_cells(built, compose_examples):
    root = parsed(built.html_path)
    issue = read_issue(built.out_dir.parent)
    wanted = [s.options["button_url"] for s in issue.sections if s.options.get("button_url")]
    if issue.invitation:  # the invitation box's "Lägg till i kalendern" comes first
        wanted.insert(0, f"{COMPOSE_BASE_URL}/archive/{issue.slug}/invitation.ics")
    buttons = root.xpath("//a[contains(@class, 'button-a')]")
    assert [a.get("href") for a in buttons] == wanted
    for link in buttons:
        cell = link.getparent()
        assert cell.tag == "td" and cell.get("bgcolor")
        assert cell.getparent().getparent().get("role") == "presentation"
        style = inline_style(link)
        assert "display:block" in style and "padding:12px24px" in style
        assert link.text_content().strip() != translate("sv", "read_more")  # descriptive text


def test_unsubscribe_preferences_and_email_placeholders_are_present(built):
    source = built.html_path.read_text(encoding="utf-8")
    root = lxml_html.fromstring(source)
    hrefs = root.xpath("//a/@href")
    assert "%%unsubscribe_url%%" in hrefs and "%%preferences_url%%" in hrefs
    assert "%%email%%" in root.text_content()
    assert set(built.meta["placeholders"]) >= {"email", "unsubscribe_url", "preferences_url"}


def test_header_links_to_web_version_subscription_and_forwarding(built):
    root = parsed(built.html_path)
    toplinks = root.xpath("//td[contains(@class, 'toplinks')]//a/@href")
    assert (
        toplinks[0] == built.meta["web_url"] == f"{COMPOSE_BASE_URL}/archive/{built.meta['slug']}/"
    )
    assert "%%preferences_url%%" in toplinks
    assert any(h.startswith("mailto:?subject=") for h in toplinks)


def test_every_section_row_names_its_source_file(built):
    root = parsed(built.html_path)
    marked = root.xpath("//tr[@data-section]/@data-section")
    invitation = ["issue.md"] if "invitation.ics" in built.meta["calendars"] else []
    assert list(dict.fromkeys(marked)) == invitation + [s["file"] for s in built.meta["sections"]]
    for name in marked:
        assert (built.out_dir.parent / name).is_file()
    ids = root.xpath("//@id")
    assert len(ids) == len(set(ids))


def test_email_html_is_below_gmail_clipping_size(built):
    size = built.html_path.stat().st_size
    assert size == built.meta["sizes"]["email_html"] < GMAIL_CLIP_BYTES
    assert not built.warnings


def test_footer_has_organisation_address_and_why(built):
    footer = parsed(built.html_path).xpath("//td[contains(@class, 'footer')]")[0].text_content()
    assert built.meta["organisation"] in footer
    address, why = {
        "sv": ("Box 100, 701 00 Örebro", "Du får"),
        "da": ("Havnegade 12, 6400 Sønderborg", "Du modtager"),
    }[built.meta["language"]]
    assert address in footer
    assert why in footer


def test_funding_logo_and_text_are_shown_when_given(compose_examples):
    root = parsed(compose_examples["2026-10-partnerskapsmote"].html_path)
    funding = root.xpath("//table[contains(@class, 'funding')]")[0]
    assert funding.xpath(".//img/@src")[0].endswith("/images/eu-fonden.png")
    assert "Europeiska regionala utvecklingsfonden" in funding.text_content()
    assert parsed(compose_examples["2018-2"].html_path).xpath("//table[@class='funding']") == []


# --- web.html, meta.json, images ------------------------------------------------------------


def test_web_version_has_images_and_no_placeholders_preheader_or_tracking(built):
    source = built.web_path.read_text(encoding="utf-8")
    root = lxml_html.fromstring(source)
    assert "%%" not in source
    assert root.get("lang") == built.meta["language"]
    assert root.xpath("//img") and all(i.get("alt") for i in root.xpath("//img"))
    assert root.xpath("//script") == []
    assert not [i for i in root.xpath("//img") if i.get("width") in ("0", "1")]
    assert built.meta["preheader"] not in root.find("body").text_content()
    hrefs = root.xpath("//a/@href")
    assert not any("unsubscribe" in h for h in hrefs)
    assert f"{COMPOSE_BASE_URL}/subscribe" in hrefs and f"{COMPOSE_BASE_URL}/archive/" in hrefs
    email_headings = [h.text_content() for h in parsed(built.html_path).xpath("//h1|//h2|//h3")]
    assert [h.text_content() for h in root.xpath("//h1|//h2|//h3")] == email_headings


def test_meta_json_has_the_agreed_keys(built):
    meta = json.loads(built.meta_path.read_text(encoding="utf-8"))
    assert meta == built.meta
    for key in (
        "slug", "title", "subject", "issue_number", "date", "language", "list",
        "preheader", "source_hash", "web_url",
    ):  # fmt: skip
        assert meta[key], key
    assert re.fullmatch(r"[0-9a-f]{64}", meta["source_hash"])


def test_build_copies_exactly_the_images_used(compose_examples):
    result = compose_examples["2018-2"]
    copied = sorted(p.name for p in (result.out_dir / "images").iterdir())
    assert copied == result.meta["images"]
    assert "logo.png" in copied  # from newsletters/assets via newsletter.yml
    assert "hero-europa.jpg" not in copied  # in images/ but not used by any section


# --- determinism, staleness, atomicity ------------------------------------------------------


def test_building_twice_gives_identical_bytes(tmp_path, compose_examples):
    root = copy_examples(tmp_path / "newsletters")
    settings = compose_settings()
    for slug, first in compose_examples.items():
        build_issue(root / slug, settings)
        assert files_of(root / slug / "build") == files_of(first.out_dir), slug
        build_issue(root / slug, settings)
        assert files_of(root / slug / "build") == files_of(first.out_dir), slug
        assert not list((root / slug).glob(".build-*"))


def test_build_makes_no_network_connections(issue_factory, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    result = build_issue(issue_factory(), compose_settings())
    assert result.html_path.is_file()


def test_is_stale_follows_source_changes(issue_factory):
    issue_dir = issue_factory()
    settings = compose_settings()
    assert is_stale(issue_dir, settings)  # never built
    build_issue(issue_dir, settings)
    assert not is_stale(issue_dir, settings)
    section = issue_dir / "02-text.md"
    section.touch()
    assert not is_stale(issue_dir, settings)  # same bytes: the hash, not the clock, decides
    section.write_text(section.read_text(encoding="utf-8") + "- tre\n", encoding="utf-8")
    assert is_stale(issue_dir, settings)
    build_issue(issue_dir, settings)
    assert not is_stale(issue_dir, settings)
    assert not is_stale(issue_dir)  # without settings: the base URL the build used
    assert is_stale(issue_dir, compose_settings("https://other.example.se"))
    (issue_dir / "images" / "hero.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    assert is_stale(issue_dir, settings)


def test_failed_build_keeps_the_previous_build(issue_factory):
    issue_dir = issue_factory()
    build_issue(issue_dir, compose_settings())
    before = files_of(issue_dir / "build")
    (issue_dir / "03-fel.md").write_text("---\nlayout: gallery\n---\n", encoding="utf-8")
    with pytest.raises(Exception, match="unknown layout"):
        build_issue(issue_dir, compose_settings())
    assert files_of(issue_dir / "build") == before
    assert sorted(p.name for p in issue_dir.iterdir() if p.name.startswith(".")) == []


# --- translations ---------------------------------------------------------------------------


def test_every_language_has_every_string():
    keys = set(STRINGS["sv"])
    assert all(set(STRINGS[lang]) == keys for lang in LANGUAGES)


@pytest.mark.parametrize(
    ("language", "view", "unsubscribe", "date"),
    [
        ("sv", "Visa i webbläsaren", "Avsluta prenumerationen", "1 mars 2026"),
        ("da", "Vis i browseren", "Afmeld nyhedsbrevet", "1. marts 2026"),
        ("en", "View in browser", "Unsubscribe", "1 March 2026"),
    ],
)
def test_issue_language_picks_strings_and_sets_lang(
    issue_factory, language, view, unsubscribe, date
):
    issue_md = ISSUE_MD.replace("language: sv", f"language: {language}")
    sections = {
        "01-kalender.md": "---\nlayout: events\nevents:\n  - date: 2026-05-04\n    title: M\n---\n",
        "02-fakta.md": "---\nlayout: facts\n---\nFakta.\n",
    }
    result = build_issue(issue_factory(issue_md=issue_md, sections=sections), compose_settings())
    root = parsed(result.html_path)
    assert root.get("lang") == language
    links = {a.text_content().strip(): a.get("href") for a in root.xpath("//a")}
    assert links[view] == result.meta["web_url"]
    assert links[unsubscribe] == "%%unsubscribe_url%%"
    assert date in root.text_content()
    assert translate(language, "events") in [h.text_content() for h in root.xpath("//h2")]
    assert translate(language, "facts").upper() in result.text_path.read_text(encoding="utf-8")
    month = translate(language, "months").split()[4]
    assert month in root.xpath("//div[@class='event-month']/text()")
    assert parsed(result.web_path).get("lang") == language


def test_rebuild_picks_up_an_edited_template(issue_factory, tmp_path):
    """Compiled templates are cached per process; an edited template file still shows."""
    from mailer.compose.render import TEMPLATES_DIR

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    issue_dir = issue_factory()
    first = build_issue(issue_dir, compose_settings(), templates_dir=templates)
    footer = templates / "email" / "footer.html"
    footer.write_text(footer.read_text(encoding="utf-8") + "<p>Extra rad</p>\n", "utf-8")
    second = build_issue(issue_dir, compose_settings(), templates_dir=templates)
    assert "Extra rad" in second.html_path.read_text(encoding="utf-8")
    assert second.meta["source_hash"] != first.meta["source_hash"]
