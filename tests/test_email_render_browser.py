"""The built emails in real headless Chromium at phone (375 px) and desktop (600 px) widths.

Images are served from each build's images/ folder by intercepting their absolute URLs; every
other request is refused, so the page shows exactly what a mail client would load. Screenshots
land in screenshots/ for a person to look at.
"""

from __future__ import annotations

import pytest

from mailer.compose.personalize import load_built, sample_values
from tests.fixtures_compose import COMPOSE_BASE_URL, EXAMPLE_SLUGS

pytestmark = pytest.mark.browser

WIDTHS = (375, 600)


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
    assert scroll_width <= width
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
            assert image["width"] == text["width"] > 300
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
