"""Clients that drop the <style> block (the Gmail apps with other accounts, Gmail's mobile web)
see only the inlined styles: every built email must still be exactly as wide as a 320, 375 or
600 px screen. Also the markup that Outlook for Windows and readers with images off depend on,
and the type rules of issue 22 (tables, small print, facts lines, phone numbers, www links).

One browser for the module (the session's); screenshots land in screenshots/ to look at.
"""

from __future__ import annotations

import re

import lxml.html
import pytest

from tests.fixtures_compose import EXAMPLE_SLUGS
from tests.test_email_render_browser import build_tables_issue, show_email

STYLE_BLOCK = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL | re.IGNORECASE)
WIDTHS = (320, 375, 600)


def without_style(page) -> None:
    """Drop every <style> element of the loaded email, as those clients do."""
    page.evaluate("document.querySelectorAll('style').forEach(s => s.remove())")


def built_html(result) -> str:
    return (result.out_dir / "email.html").read_text(encoding="utf-8")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_every_example_fits_the_screen_on_inlined_styles_alone(
    page, compose_examples, screenshot_dir, slug
):
    result = compose_examples[slug]
    for width in WIDTHS:
        assert show_email(page, result, width) == []
        without_style(page)
        assert page.evaluate("document.querySelectorAll('style').length") == 0
        page.screenshot(
            path=str(screenshot_dir / f"email-nostyle-{slug}-{width}.png"), full_page=True
        )
        assert page.evaluate("document.documentElement.scrollWidth") == width, (slug, width)


@pytest.mark.browser
def test_a_six_column_table_fits_on_inlined_styles_alone(page, tmp_path, screenshot_dir):
    result = build_tables_issue(tmp_path)
    for width in WIDTHS:
        assert show_email(page, result, width) == []
        without_style(page)
        page.screenshot(path=str(screenshot_dir / f"email-nostyle-table-{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") == width
    size = page.eval_on_selector(  # desktop: readable type, headers apart
        "tr[data-section='01-lan.md'] table.md-table", "t => getComputedStyle(t).fontSize"
    )
    assert float(size.rstrip("px")) >= 12


@pytest.mark.browser
def test_with_styles_tables_stay_at_14px_or_more_on_a_phone(page, tmp_path):
    result = build_tables_issue(tmp_path, "\ntables: scale")
    show_email(page, result, 320)
    sizes = page.eval_on_selector_all(
        "table.md-table td, table.md-table th", "cs => cs.map(c => getComputedStyle(c).fontSize)"
    )
    assert sizes and min(float(s.rstrip("px")) for s in sizes) >= 14


def test_outlook_buttons_carry_their_padding_on_the_cell(compose_examples):
    """Word ignores padding on <a>: the cell has mso-padding-alt (MJML's way), the link's own
    padding is zeroed for Outlook only, and every other client keeps the link's padding."""
    tree = lxml.html.fromstring(built_html(compose_examples["2018-2"]))
    links = tree.cssselect("a.button-a")
    assert links
    for link in links:
        cell = link.getparent()
        assert cell.tag == "td" and "button-td" in cell.get("class")
        assert "mso-padding-alt:12px 24px" in cell.get("style").replace(": ", ":")
        style = link.get("style").replace(": ", ":")
        assert "padding:12px 24px" in style and "mso-padding-alt:0" in style
        assert "display:block" in style  # the whole cell is the link


def test_small_print_is_set_in_the_body_font_at_a_readable_size(compose_examples):
    tree = lxml.html.fromstring(built_html(compose_examples["2026-11-graenseregion"]))
    (cell,) = tree.cssselect("td.small-print")
    style = cell.get("style").replace(": ", ":")
    assert "font-family:-apple-system" in style and "font-size:14px" in style


def test_facts_lines_stay_lines_and_bare_www_addresses_are_linked(compose_examples):
    tree = lxml.html.fromstring(built_html(compose_examples["2026-10-partnerskapsmote"]))
    box = tree.cssselect(".box-facts")[0]
    html = lxml.html.tostring(box, encoding="unicode")
    assert re.search(r"kl\. 10–16<br\s*/?>\s*Plats: Verkstadshuset", html)
    assert box.cssselect("a[href='https://www.example.se/natverket']")
    assert "inte ska brytas" not in html  # (prose paragraphs keep running together)


def test_phone_numbers_stay_whole_and_addresses_break_only_before_the_at(compose_examples):
    html = built_html(compose_examples["2018-2"])
    assert '<span style="white-space: nowrap;">019-10 20 30</span>' in html  # the footer
    assert re.search(r'href="tel:[^"]+"[^>]*white-space:\s*nowrap', html)  # the contact card
    tree = lxml.html.fromstring(html)
    shown = [a for a in tree.cssselect("a[href^='mailto:']") if "@" in a.text_content()]
    assert len(shown) >= 2  # the footer's and the contact card's
    for link in shown:
        halves = [span.text_content() for span in link.cssselect("span")]
        address = link.get("href")[len("mailto:") :]
        assert "".join(halves) == address and halves[1].startswith("@"), address


@pytest.mark.browser
def test_a_long_address_wraps_before_its_at_on_a_small_phone(page, compose_examples):
    show_email(page, compose_examples["2026-11-graenseregion"], 320)
    lines = page.eval_on_selector_all(
        ".card-line a[href^='mailto:'] span",
        "spans => spans.map(s => [s.textContent, s.getClientRects().length])",
    )
    assert lines and all(count == 1 for _text, count in lines)  # no half breaks inside


@pytest.mark.browser
def test_stacked_cards_do_not_repeat_the_first_header(page, tmp_path):
    result = build_tables_issue(tmp_path, "\ntables: stack")
    show_email(page, result, 375)
    cards = page.locator("tr[data-section='01-lan.md'] table.md-table tbody tr")
    texts = cards.evaluate_all("rows => rows.map(r => r.innerText)")
    assert len(texts) == 5 and not any("Län:" in t for t in texts)
    assert all("Invånare:" in t for t in texts)


@pytest.mark.browser
def test_with_images_off_portraits_and_partner_logos_show_readable_alt_text(
    browser, compose_examples, screenshot_dir
):
    """Images blocked (as many mail programs start): a portrait's alt text stays inside its
    64 px circle and partner logos read as bold names, not tiny grey text."""
    context = browser.new_context(viewport={"width": 375, "height": 900})
    page = context.new_page()
    try:
        page.route("**/*", lambda route: route.abort())
        page.set_content(built_html(compose_examples["2026-11-graenseregion"]))
        page.screenshot(path=str(screenshot_dir / "email-images-off-375.png"), full_page=True)
        photos = page.eval_on_selector_all(
            ".card-photo img",
            "imgs => imgs.map(i => [i.getBoundingClientRect().width, i.scrollWidth, "
            "getComputedStyle(i).fontSize])",
        )
        assert photos
        for width, scroll, size in photos:
            assert width <= 64 and scroll <= 64 and float(size.rstrip("px")) <= 12
        sizes = page.eval_on_selector_all(
            ".partner-plate img", "imgs => imgs.map(i => getComputedStyle(i).fontSize)"
        )
        assert sizes and all(float(s.rstrip("px")) >= 15 for s in sizes)
    finally:
        context.close()
