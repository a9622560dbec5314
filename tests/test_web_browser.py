"""Headless Chromium against a live server: every page at 375 px and 1280 px, and the forms
submitted the way a person would (subscribe, confirm, preferences, download, unsubscribe,
erase)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from mailer.audience.subscribers import get_subscriber
from tests.fixtures_web import LiveServer, free_port, make_person, mark_sent, statuses

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (375, 1280)
ORGANISATION = "Partnerskapet för social innovation i Örebro län"  # tests/fixtures/issues


@pytest.fixture
def watched_page(browser):
    """A page whose console errors (CSP violations, failed loads) are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.problems = []
    expected = re.compile(r"status of (400|404)")  # the error pages we open on purpose

    def on_console(message):
        if message.type == "error" and not expected.search(message.text):
            page.problems.append(message.text)

    page.on("console", on_console)
    page.on(
        "requestfailed",  # a download ends its navigation as "aborted": not a problem
        lambda r: r.url.endswith("/export") or page.problems.append(f"failed {r.url}"),
    )
    yield page
    context.close()


def shoot(page, screenshot_dir, name: str) -> None:
    """Screenshots at both widths; at 375 px nothing may stick out sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} overflows by {overflow}px at {width}px"
        page.screenshot(path=str(screenshot_dir / f"web-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def confirm_link(smtp_sink, count: int) -> str:
    body = smtp_sink.wait_for(count)[count - 1].get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/confirm/[A-Za-z0-9_-]+", body).group(0)


def download_link(smtp_sink, count: int, step: str = "export") -> str:
    """The link in the `count`th mail, sent by "E-mail me my data" (or, with `step="erase"`,
    by "E-mail me a link to erase my data")."""
    body = smtp_sink.wait_for(count)[count - 1].get_body(("plain",)).get_content()
    return re.search(rf"https?://\S+/preferences/[A-Za-z0-9_-]+/{step}(?=\s)", body).group(0)


def download_document(page) -> dict:
    """Press the Download button on the mailed link's page; the JSON file it saves."""
    with page.expect_download() as download:
        page.click("form[action$='/export'] button")
    assert download.value.suggested_filename == "my-data.json"
    return json.loads(Path(download.value.path()).read_text(encoding="utf-8"))


def test_screenshots_of_every_public_page(
    watched_page,
    live_server,
    db,
    live_settings,
    lists,
    built_issues,
    newsletters_dir,
    smtp_sink,
    screenshot_dir,
):
    from mailer.compose.build import build_issue

    page, url = watched_page, live_server.url
    build_issue(newsletters_dir / built_issues[0], live_settings)  # image URLs lead here
    mark_sent(db, built_issues[0])
    anna = make_person(db, live_settings, "anna@example.se", lists=("nyhetsbrev", "kalender"))

    def snap(name: str) -> None:
        """Screenshots, after checking the page speaks for newsletter.yml's organisation."""
        assert page.locator(".brand-name").inner_text() == ORGANISATION, name
        assert page.evaluate(
            "(() => { const i = document.querySelector('.brand-logo');"
            " return !!i && i.complete && i.naturalWidth > 0; })()"
        ), name
        shoot(page, screenshot_dir, name)

    page.goto(url + "/")
    snap("index")
    page.goto(url + "/subscribe?lang=sv")  # the Swedish lists are offered on Swedish pages
    snap("subscribe")
    page.click("button[type=submit]")
    assert page.locator("#email-error").is_visible()
    snap("subscribe-error")
    page.fill("#email", "nils@example.se")
    page.check("input[value=nyhetsbrev]")
    page.click("button[type=submit]")
    snap("subscribe-done")
    page.goto(confirm_link(smtp_sink, 1))
    snap("confirm")
    page.click("button[type=submit]")
    snap("confirmed")
    page.reload()  # the form POST again: the link is used now
    snap("confirm-invalid")

    page.goto(f"{url}/unsubscribe/{anna.unsubscribe}")
    snap("unsubscribe")
    page.click("button:has-text('Avsluta prenumerationen')")
    snap("unsubscribed")
    page.click("button[value=resubscribe], form:has(input[value=resubscribe]) button")
    snap("resubscribed")

    page.goto(f"{url}/preferences/{anna.preferences}?lang=en")
    snap("preferences")
    page.click("button:has-text('Save changes')")
    snap("preferences-saved")
    page.click("form[action$='/export'] button")
    assert page.locator("h1").inner_text() == "Titta i din inkorg"  # Anna's language
    snap("export-sent")
    page.click("a[hreflang=da]")  # a GET of the same address: offers the button, mails nothing
    assert page.locator("h1").inner_text() == "Dine oplysninger"
    assert len(smtp_sink.wait_for(3, timeout=1)) == 2
    snap("export-ask")
    page.goto(download_link(smtp_sink, 2) + "?lang=en")
    snap("export")
    assert download_document(page)["profile"]["email"] == "anna@example.se"
    page.goto(f"{url}/preferences/{anna.preferences}/erase?lang=da")
    assert (
        page.locator("h1").inner_text() == "Slet mig" and page.locator("button.danger").count() == 0
    )
    snap("erase-ask")
    page.click("form[action$='/erase'] button")  # mails a link; erases nothing
    assert page.locator("h1").inner_text() == "Titta i din inkorg"  # Anna's language
    assert get_subscriber(db, "anna@example.se") is not None
    snap("erase-sent")
    page.goto(download_link(smtp_sink, 3, "erase") + "?lang=da")
    assert page.locator("h1").inner_text() == "Slet alle dine oplysninger?"
    snap("erase")
    page.click("button.danger")
    assert get_subscriber(db, "anna@example.se") is None
    snap("erased")

    page.goto(url + "/archive/")
    snap("archive")
    page.goto(f"{url}/archive/{built_issues[0]}/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    shoot(page, screenshot_dir, "archive-issue")  # the issue itself: its own header
    page.goto(url + "/unsubscribe/this-token-does-not-exist-at-all")
    snap("not-found")
    assert page.problems == []


def test_a_person_subscribes_confirms_changes_preferences_and_unsubscribes(
    watched_page, live_server, db, live_settings, lists, smtp_sink
):
    from mailer.audience.tokens import issue_token

    page, url = watched_page, live_server.url
    page.goto(url + "/subscribe?lang=en")
    page.fill("#email", "Kim.Larsen@Example.DK")
    page.fill("#name", "Kim <Larsen>")
    page.select_option("#language", "da")
    page.check("input[value=kalender]")
    page.press("#email", "Enter")  # submitting works from the keyboard
    assert page.locator("h1").inner_text() == "Check your inbox"
    kim = get_subscriber(db, "kim.larsen@example.dk")
    assert (kim["subscriptions"], kim["language"]) == ({"kalender": "pending"}, "da")

    page.goto(confirm_link(smtp_sink, 1))
    assert statuses(db, kim["id"]) == {"kalender": "pending"}  # showing the page confirms nothing
    page.click("button[type=submit]")
    assert page.locator("html").get_attribute("lang") == "da"
    assert statuses(db, kim["id"]) == {"kalender": "active"}

    preferences = issue_token(db, "preferences", kim["id"])
    page.goto(f"{url}/preferences/{preferences}")
    assert page.input_value("#name") == "Kim <Larsen>"
    page.fill("#name", "Kim Larsen")
    page.check("input[value=nyhetsbrev]")
    page.click("form:has(#name) button[type=submit]")
    assert page.locator(".notice.ok").is_visible()
    assert statuses(db, kim["id"]) == {"kalender": "active", "nyhetsbrev": "active"}
    assert get_subscriber(db, kim["email"])["name"] == "Kim Larsen"
    page.click("form[action$='/export'] button")  # mails a link; never the data itself
    assert page.locator("h1").inner_text() == "Se i din indbakke"
    assert "k•••@example.dk" in page.locator("main").inner_text()
    page.goto(download_link(smtp_sink, 2))
    assert download_document(page)["profile"]["email"] == "kim.larsen@example.dk"
    assert page.goto(download_link(smtp_sink, 2)).status == 404  # the link works once

    unsubscribe = issue_token(db, "unsubscribe", kim["id"], lists["nyhetsbrev"])
    page.goto(f"{url}/unsubscribe/{unsubscribe}")
    # each answer page has the same forms again: wait for it before the next click, or the
    # click lands on the old page and aborts the request in flight
    with page.expect_navigation():
        page.click("form:has(input[value=unsubscribe]) button")
    assert statuses(db, kim["id"]) == {"kalender": "active", "nyhetsbrev": "unsubscribed"}
    with page.expect_navigation():
        page.click("form:has(input[value=all]) button")
    assert set(statuses(db, kim["id"]).values()) == {"unsubscribed"}

    page.goto(f"{url}/preferences/{preferences}")
    page.click("text=Slet mig …")
    page.click("form[action$='/erase'] button")  # mails a link; erases nothing
    assert page.locator("h1").inner_text() == "Se i din indbakke"
    assert get_subscriber(db, kim["email"]) is not None
    erase = download_link(smtp_sink, 3, "erase")
    page.goto(erase)
    assert get_subscriber(db, kim["email"]) is not None  # opening the link erases nothing
    page.click("button.danger")
    assert page.locator("h1").inner_text() == "Dine oplysninger er slettet"
    assert get_subscriber(db, kim["email"]) is None
    assert page.goto(erase).status == 404  # the link works once
    assert page.problems == []


def test_screenshots_of_the_editor_preview(
    browser, settings, built_examples, tmp_path, screenshot_dir
):
    import shutil

    from mailer.web import create_app
    from tests.fixtures_web import example_slugs

    shutil.copytree(built_examples, tmp_path / "newsletters")
    issue = tmp_path / "newsletters" / example_slugs()[0]
    port = free_port()
    local = dataclasses.replace(settings, base_url=f"http://127.0.0.1:{port}")
    app = create_app(local, preview_issue=issue)
    app.config["PREVIEW_WAIT_SECONDS"] = 2  # the page's open question ends soon at shutdown
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(r.url))
    with LiveServer(app, port) as server:
        page.goto(server.url + "/preview/")  # its question to /preview/changes stays open:
        page.wait_for_load_state("load")  # no "networkidle" here
        for width in (1280, 1600):
            page.set_viewport_size({"width": width, "height": 1000})
            page.screenshot(path=str(screenshot_dir / f"web-preview-{width}.png"))
        handset = page.locator(".handset iframe")  # the 320 px phone frame (issue 15)
        assert handset.bounding_box()["width"] == 320
        email = page.frame_locator(".handset iframe").locator("html")
        assert email.evaluate("root => root.scrollWidth") == 320
        section = sorted(issue.glob("[0-9]*.md"))[1]
        email.evaluate("root => root.ownerDocument.defaultView.scrollTo(0, 300)")
        page.evaluate("window.notReloaded = true")
        added = "\n\nNy rad i förhandsvisningen.\n"
        section.write_text(section.read_text(encoding="utf-8") + added, encoding="utf-8")
        page.wait_for_function("() => window.previewRepaints.length > 0", timeout=15_000)
        for index in range(3):  # every frame shows the new text, without reloading the page
            frame = page.frame_locator("iframe").nth(index)
            assert frame.locator("text=Ny rad i förhandsvisningen.").count() >= 1
        assert "Ny rad i förhandsvisningen." in page.locator(".text pre").inner_text()
        assert page.evaluate("window.notReloaded") is True
        assert email.evaluate("root => root.ownerDocument.defaultView.scrollY") == 300
        page.screenshot(path=str(screenshot_dir / "web-preview-after-save.png"))
        context.close()
    assert problems == []
