"""The HTML part as a reader's mail program receives it, rendered in headless Chromium."""

from __future__ import annotations

import pytest

from mailer.delivery.send import run_send
from tests.fixtures_send import add_subscribers


@pytest.mark.browser
def test_delivered_html_renders_with_working_personal_links(
    db, send_settings, mail_sink, built_example, page, screenshot_dir
):
    add_subscribers(db, send_settings, 1, "nyhetsbrev")
    run_send(send_settings, built_example)
    [received] = mail_sink.handler.received
    message = received.parsed()
    html = message.get_body(("html",)).get_content()
    unsubscribe_url = str(message["List-Unsubscribe"]).strip("<>")
    images = built_example / "build" / "images"

    def serve_image(route):
        name = route.request.url.rsplit("/", 1)[-1]
        if (images / name).is_file():
            route.fulfill(path=str(images / name))
        else:
            route.abort()

    page.route("https://news.example.se/archive/2018-2/images/*", serve_image)
    page.route("https://**", lambda route: route.abort())
    for width in (375, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.set_content(html, wait_until="load")
        page.screenshot(path=str(screenshot_dir / f"send-delivered-{width}.png"), full_page=True)
    hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.href)")
    assert unsubscribe_url in hrefs
    assert any(h.startswith("https://news.example.se/preferences/") for h in hrefs)
    broken = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == []
