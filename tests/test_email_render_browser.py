"""The built emails in real headless Chromium at small phone (320 px), phone (375 px) and desktop
(600 px) widths: the document is exactly as wide as the screen, whatever the tables hold.

Images are served from each build's images/ folder by intercepting their absolute URLs; every
other request is refused, so the page shows exactly what a mail client would load. Screenshots
land in screenshots/ for a person to look at.
"""

from __future__ import annotations

import pytest

from mailer.compose.personalize import load_built, sample_values
from tests.fixtures_compose import COMPOSE_BASE_URL, EXAMPLE_SLUGS

pytestmark = pytest.mark.browser

WIDTHS = (320, 375, 600)


def show_email(page, result, width: int) -> list[str]:
    """Load the filled email.html at `width`; return URLs the page asked for but did not get."""
    built = load_built(result.out_dir.parent)
    html = built.html.fill(sample_values({"base_url": COMPOSE_BASE_URL}))
    images = result.out_dir / "images"
    prefix = f"{COMPOSE_BASE_URL}/archive/{result.meta['slug']}/images/"
    refused: list[str] = []

    def serve(route):
        url = route.request.url
        file = images / url[len(prefix) :]
        if url.startswith(prefix) and file.is_file():
            route.fulfill(body=file.read_bytes(), content_type="image/" + file.suffix[1:])
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", serve)
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(html, wait_until="load")
    return refused


def box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "el => el.getBoundingClientRect().toJSON()")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_email_renders_without_overflow_and_columns_stack_on_phones(
    page, compose_examples, screenshot_dir, slug, width
):
    result = compose_examples[slug]
    refused = show_email(page, result, width)
    assert refused == []
    page.screenshot(path=str(screenshot_dir / f"email-{slug}-{width}.png"), full_page=True)

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width == width
    broken = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == []
    container = box(page, ".email-container")
    assert container["width"] == min(width, 600)

    sections = [s["file"] for s in result.meta["sections"] if s["layout"] == "image-text"]
    assert sections
    for name in sections:
        row = f"tr[data-section='{name}']"
        image, text = box(page, f"{row} .col-image"), box(page, f"{row} .col-text")
        if width < 600:  # stacked: image above text, both full width
            assert image["bottom"] <= text["top"] + 1
            assert image["width"] == text["width"] == width - 40  # the padded column
        else:  # side by side, same top, image on the side the editor chose
            assert abs(image["top"] - text["top"]) < 1
            assert image["width"] == text["width"] == 270
            right = page.get_attribute(f"{row} .columns", "dir") == "rtl"
            assert (image["left"] > text["left"]) == right


def test_phone_layout_enlarges_nothing_beyond_the_screen(page, compose_examples):
    """Every element's right edge stays inside 375 px (catches wide tables and long words)."""
    show_email(page, compose_examples["2018-2"], 375)
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
              .filter(el => el.getBoundingClientRect().right > 375.5)
              .map(el => el.tagName + '.' + el.className)"""
    )
    assert too_wide == []


def luminance(css_colour: str) -> float:
    """Relative luminance (WCAG) of a computed `rgb(r, g, b)` colour."""
    channels = [int(x) / 255 for x in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_text_and_links_are_readable_in_light_and_dark_mode(
    page, compose_examples, screenshot_dir, slug, scheme
):
    """WCAG AA contrast (4.5:1) for body text and links; dark mode is the client's choice."""
    page.emulate_media(color_scheme=scheme)
    show_email(page, compose_examples[slug], 600)
    if scheme == "dark":
        page.screenshot(path=str(screenshot_dir / f"email-{slug}-600-dark.png"), full_page=True)
    pairs = page.evaluate(
        """() => [...document.querySelectorAll(
                'td.section a:not(.button-a), td.section p, td.section li, ' +
                'td.footer p, td.footer a, td.funding-text')]
              .map(el => {
                let bg = el, colour = 'rgba(0, 0, 0, 0)';
                while (bg && (colour = getComputedStyle(bg).backgroundColor) === 'rgba(0, 0, 0, 0)')
                  bg = bg.parentElement;
                return [el.tagName + ' ' + el.textContent.trim().slice(0, 30),
                        getComputedStyle(el).color, colour];
              })"""
    )
    assert pairs
    low = [(what, round(contrast(fg, bg), 1)) for what, fg, bg in pairs if contrast(fg, bg) < 4.5]
    assert low == []


@pytest.mark.parametrize("width", [375, 1280])
def test_web_version_shows_images_without_overflow(page, compose_examples, screenshot_dir, width):
    result = compose_examples["2026-10-partnerskapsmote"]
    prefix = f"{COMPOSE_BASE_URL}/archive/{result.meta['slug']}/images/"
    refused: list[str] = []

    def serve(route):
        file = result.out_dir / "images" / route.request.url[len(prefix) :]
        if route.request.url.startswith(prefix) and file.is_file():
            route.fulfill(body=file.read_bytes(), content_type="image/" + file.suffix[1:])
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", serve)
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(result.web_path.read_text(encoding="utf-8"), wait_until="load")
    page.screenshot(path=str(screenshot_dir / f"web-{result.meta['slug']}-{width}.png"))
    assert refused == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.eval_on_selector_all("img", "imgs => imgs.every(i => i.naturalWidth > 0)")
    container = box(page, ".email-container")
    assert container["width"] == min(width, 600)
    assert abs(container["left"] - (width - container["width"]) / 2) <= 1  # centred


# --- tables on phones (issue 15) ------------------------------------------------------------

COUNTIES = """\
---
layout: text{front}
---
## Länen i siffror

| Län | Invånare | Kommuner | Arbetslöshet | Förändring | Residensstad |
|---|---:|---:|---:|---:|---|
| Västernorrlands län | 244 193 | 7 | 7,1 % | −0,4 | Härnösand |
| Jämtlands län | 132 054 | 8 | 5,9 % | +0,2 | Östersund |
| Västerbottens län | 274 153 | 15 | 5,6 % | −0,1 | Umeå |
| Norrbottens län | 248 480 | 14 | 6,0 % | +0,3 | Luleå |
| Örebro län | 306 792 | 12 | 8,3 % | −0,6 | Örebro |
"""

NARROW = """\
---
layout: facts
---
| Dag | Tid |
|---|---|
| Tisdag | 10–12 |
| Torsdag | 13–15 |
"""

LONG_CODE = """\
---
layout: text
---
Kopiera raden:

    https://www.example.se/en/mycket/lang/adress/som/inte/far/plats/pa/en/telefon/alls?med=parametrar
"""


def build_tables_issue(tmp_path, front: str = "") -> object:
    from mailer.compose.build import build_issue
    from tests.fixtures_compose import compose_settings, write_issue

    sections = {
        "01-lan.md": COUNTIES.format(front=front),
        "02-tider.md": NARROW,
        "03-kod.md": LONG_CODE,
    }
    issue = write_issue(tmp_path / "newsletters", sections=sections, images={})
    return build_issue(issue, compose_settings())


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("front", ["", "\ntables: scale", "\ntables: stack"])
def test_a_six_column_table_never_widens_the_email(page, tmp_path, screenshot_dir, width, front):
    """Auto (stacks), an editor's scale (words may break) and stack: all fit 320-600 px."""
    result = build_tables_issue(tmp_path, front)
    assert show_email(page, result, width) == []
    mode = front.split(":")[-1].strip() or "auto"
    page.screenshot(path=str(screenshot_dir / f"email-table-{mode}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") == width
    table = box(page, "tr[data-section='01-lan.md'] table.md-table")
    inner = page.eval_on_selector(
        "tr[data-section='01-lan.md'] td.section",
        "td => td.getBoundingClientRect().right - parseFloat(getComputedStyle(td).paddingRight)",
    )
    assert table["right"] <= inner + 0.5  # inside the padded column


def test_a_wide_table_stacks_as_header_value_blocks_on_phones_and_stays_a_table_on_desktop(
    page, tmp_path
):
    result = build_tables_issue(tmp_path)
    row = "tr[data-section='01-lan.md'] table.md-table tbody tr"
    show_email(page, result, 375)
    first = page.locator(row).first.inner_text()
    # the first column is the card's title, not "Län: ..." repeated on every card
    assert first.startswith("Västernorrlands län") and "Län:" not in first
    assert "Residensstad: Härnösand" in first
    assert not page.locator("tr[data-section='01-lan.md'] thead").is_visible()
    cells = page.locator(f"{row}:first-child td").evaluate_all(
        "tds => tds.map(td => td.getBoundingClientRect().left)"
    )
    assert len(set(cells)) == 1  # one under the other
    show_email(page, result, 600)
    assert page.locator("tr[data-section='01-lan.md'] thead").is_visible()
    assert "Län:" not in page.locator(row).first.inner_text()  # labels hidden on desktop
    lefts = page.locator(f"{row}:first-child td").evaluate_all(
        "tds => tds.map(td => td.getBoundingClientRect().left)"
    )
    assert lefts == sorted(lefts) and len(set(lefts)) == 6  # six columns side by side


def test_a_narrow_table_stays_a_table_on_a_small_phone(page, tmp_path):
    result = build_tables_issue(tmp_path)
    show_email(page, result, 320)
    tds = page.locator("tr[data-section='02-tider.md'] table.md-table tbody tr:first-child td")
    tops = tds.evaluate_all("tds => tds.map(td => Math.round(td.getBoundingClientRect().top))")
    assert len(tops) == 2 and tops[0] == tops[1]


# --- the defects of issue 15 ----------------------------------------------------------------


@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_top_links_never_start_or_end_a_line_with_a_separator(page, compose_examples, slug):
    for width in (320, 375):
        show_email(page, compose_examples[slug], width)
        visible = page.locator("td.toplinks .sep").evaluate_all(
            "seps => seps.filter(s => s.getBoundingClientRect().width > 0).length"
        )
        assert visible == 0
        tops = page.locator("td.toplinks a").evaluate_all(
            "as => as.map(a => Math.round(a.getBoundingClientRect().top))"
        )
        assert len(set(tops)) >= 1 and all(t > 0 for t in tops)


def test_funding_text_without_a_logo_lines_up_with_the_footer(page, tmp_path):
    from mailer.compose.build import build_issue
    from tests.fixtures_compose import SITE_YML, compose_settings, write_issue

    site = SITE_YML + "funding_text: Projektet medfinansieras av Europeiska unionen.\n"
    issue = write_issue(tmp_path / "newsletters", site=site)
    result = build_issue(issue, compose_settings())
    for width in (375, 600):
        show_email(page, result, width)
        text = box(page, "td.funding-text")
        org = box(page, "td.footer .org-name")
        assert abs(text["left"] - org["left"]) <= 1


def test_with_images_blocked_the_hero_alt_text_is_styled_in_a_tinted_box(page, compose_examples):
    result = compose_examples["2018-2"]
    page.route("**/*", lambda route: route.abort())
    page.set_viewport_size({"width": 600, "height": 900})
    html = load_built(result.out_dir.parent).html.fill(sample_values({"base_url": "x"}))
    page.set_content(html, wait_until="load")
    hero = page.locator("td.hero img").first
    style = hero.evaluate(
        "img => { const s = getComputedStyle(img); "
        "return [s.backgroundColor, s.fontFamily, s.textAlign, s.color]; }"
    )
    background, family, align, colour = style
    assert background != "rgba(0, 0, 0, 0)" and "Helvetica" in family and align == "center"
    assert luminance(colour) < 0.1  # dark text on the light tint


@pytest.mark.parametrize("scheme", ["dark"])
def test_partner_logos_sit_on_a_light_plate_in_dark_mode(page, compose_examples, scheme):
    page.emulate_media(color_scheme=scheme)
    result = compose_examples["2026-11-graenseregion"]
    show_email(page, result, 600)
    plates = page.locator(".partner-plate").evaluate_all(
        "ps => ps.map(p => getComputedStyle(p).backgroundColor)"
    )
    assert plates and set(plates) == {"rgb(255, 255, 255)"}
    lefts = page.locator(".partner-col").evaluate_all(
        "cs => cs.map(c => Math.round(c.getBoundingClientRect().top))"
    )
    assert max(lefts) - min(lefts) <= 4  # one row on desktop (centred vertically)
    show_email(page, result, 375)
    tops = page.locator(".partner-col").evaluate_all(
        "cs => cs.map(c => Math.round(c.getBoundingClientRect().top))"
    )
    assert tops == sorted(tops) and len(set(tops)) == len(tops)  # stacked on a phone


CORNERS = (
    "cs => cs.map(c => [Math.round(c.getBoundingClientRect().top), c.getBoundingClientRect().left])"
)


def test_contacts_stand_two_across_on_desktop_and_stack_on_a_phone(page, compose_examples):
    result = compose_examples["2026-11-graenseregion"]
    show_email(page, result, 600)
    cols = page.locator(".contact-col").evaluate_all(CORNERS)
    assert len(cols) == 2 and cols[0][0] == cols[1][0] and cols[0][1] < cols[1][1]
    show_email(page, result, 320)
    cols = page.locator(".contact-col").evaluate_all(CORNERS)
    assert cols[0][0] < cols[1][0] and cols[0][1] == cols[1][1]


def test_the_small_print_block_has_its_own_language(page, compose_examples):
    show_email(page, compose_examples["2026-11-graenseregion"], 375)
    assert page.locator("html").get_attribute("lang") == "da"
    block = page.locator("td.small-print")
    assert block.get_attribute("lang") == "en"
    assert "European Regional Development Fund" in block.inner_text()
