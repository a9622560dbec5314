"""`check` looks at the rendering: overflow at 320/375/600 px and in dark mode, named by section.

Real headless Chromium (/usr/bin/chromium) through Playwright, as `newsletter check` runs it.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from PIL import Image, ImageStat

from cli import cli
from mailer.check import check_content
from tests.fixtures_compose import COMPOSE_BASE_URL, EXAMPLE_SLUGS, compose_settings, write_issue

BASE: list[str] = []  # the test folder's .env (conftest.isolated_env)
SIX_COLUMNS = """\
---
layout: text
---
## Länen i siffror

| Län | Invånare | Kommuner | Arbetslöshet | Förändring | Residensstad |
|---|---:|---:|---:|---:|---|
| Västernorrlands län | 244 193 | 7 | 7,1 % | −0,4 | Härnösand |
| Jämtlands län | 132 054 | 8 | 5,9 % | +0,2 | Östersund |
"""


@pytest.fixture
def counties_issue(tmp_path):
    from mailer.compose.build import build_issue

    sections = {"01-intro.md": "# Hej\n\nKort inledning.\n", "02-lan.md": SIX_COLUMNS}
    issue = write_issue(tmp_path / "newsletters", sections=sections, images={})
    build_issue(issue, compose_settings())
    return issue


@pytest.mark.browser
def test_check_fails_an_issue_whose_rendering_overflows_naming_the_section_file(
    counties_issue,
):
    """A build like those before issue 15: a plain table whose cells do not wrap (here made
    so by hand: the templates now wrap long words even in a plain table)."""
    html_path = counties_issue / "build" / "email.html"
    html = html_path.read_text(encoding="utf-8")
    html = re.sub(r'class="md-table[^"]*"', 'class="md-table"', html)
    phone_rule = ".md-table th, .md-table td { white-space: nowrap !important; }"
    html = html.replace(
        "</head>", f"<style>@media (max-width: 599px) {{ {phone_rule} }}</style></head>"
    )
    html_path.write_text(html, encoding="utf-8")

    report = check_content(counties_issue, compose_settings(), spam=False, render=True)
    overflow = [f for f in report.errors if f.code == "render-overflow"]
    assert overflow and not report.ok
    assert {f.location for f in overflow} == {str(counties_issue / "02-lan.md")}
    assert "md-table" in overflow[0].message and "320 px" in overflow[0].message
    assert "tables: stack" in overflow[0].advice
    widths = report.facts["rendered_widths"]
    assert widths["320 px"] > 320 and widths["600 px"] == 600


@pytest.mark.browser
def test_the_same_issue_as_built_now_fits_every_width(counties_issue):
    report = check_content(counties_issue, compose_settings(), spam=False, render=True)
    assert [f for f in report.findings if f.check == "rendering"] == []
    assert report.facts["rendered_widths"] == {
        "320 px": 320,
        "375 px": 375,
        "600 px": 600,
        "375 px in dark mode": 375,
    }


@pytest.mark.browser
@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_every_bundled_issue_renders_without_overflow(compose_examples, slug):
    issue_dir = compose_examples[slug].out_dir.parent
    report = check_content(issue_dir, compose_settings(COMPOSE_BASE_URL), spam=False, render=True)
    assert [f.message for f in report.findings if f.check == "rendering"] == []
    assert set(report.facts["rendered_widths"].values()) == {320, 375, 600}


def test_without_chromium_the_report_says_the_rendering_was_not_checked(counties_issue):
    report = check_content(
        counties_issue, compose_settings(), spam=False, render=True, chromium="/nonexistent/chrome"
    )
    [note] = [f for f in report.findings if f.code == "render-not-checked"]
    assert note.severity == "note" and "not checked" in note.message
    assert "apt-get install chromium" in note.advice
    assert report.ok  # a note, not an error: the other checks still ran
    assert "rendered_widths" not in report.facts


def test_screenshots_that_cannot_be_taken_are_an_error_not_silence(counties_issue, tmp_path):
    shots = tmp_path / "shots"
    report = check_content(
        counties_issue,
        compose_settings(),
        spam=False,
        render=False,
        chromium="/nonexistent/chrome",
        screenshots=shots,
    )
    [error] = [f for f in report.findings if f.code == "screenshots-not-written"]
    assert error.severity == "error" and str(shots) in error.message
    assert "Chromium not found" in error.message and "apt-get install chromium" in error.advice
    assert not report.ok  # the command exits non-zero


def test_the_playwright_hint_fits_how_the_tool_was_installed():
    from mailer.check.rendering import playwright_install_hint

    pipx = playwright_install_hint("/home/anna/.local/share/pipx/venvs/newsletter")
    assert pipx == "pipx inject newsletter playwright"
    venv = playwright_install_hint("/home/anna/nl", "/home/anna/nl/bin/python")
    assert venv == "/home/anna/nl/bin/python -m pip install playwright"


@pytest.mark.browser
def test_check_screenshots_writes_desktop_phone_dark_and_images_blocked(
    counties_issue, tmp_path, db, settings
):
    from mailer.audience.roster import add_subscriber

    add_subscriber(db, settings, "anna@example.se", list_name="nyhetsbrev")  # a sendable issue
    shots = tmp_path / "shots"
    result = CliRunner().invoke(
        cli,
        [*BASE, "--db", str(settings.db_path), "check", str(counties_issue), "--no-spam",
         "--screenshots", str(shots)],
        env={"NEWSLETTER_BASE_URL": COMPOSE_BASE_URL, "NEWSLETTER_FROM": settings.from_address,
             "NEWSLETTER_SECRET_KEY": settings.secret_key},
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Rendering looked at in Chromium: 320 px, 375 px, 600 px, 375 px in dark mode." in (
        result.output
    )

    def size(path) -> tuple[int, int]:
        with Image.open(path) as image:
            return image.size

    sizes = {p.name: size(p) for p in shots.glob("*.png")}
    assert set(sizes) == {"desktop.png", "phone.png", "dark.png", "images-blocked.png"}
    assert sizes["phone.png"][0] == sizes["dark.png"][0] == 375
    assert sizes["desktop.png"][0] == sizes["images-blocked.png"][0] == 800

    def brightness(name: str) -> float:
        with Image.open(shots / name) as image:
            return ImageStat.Stat(image.convert("L")).mean[0]

    assert brightness("dark.png") < brightness("phone.png") - 50  # dark mode really is dark
