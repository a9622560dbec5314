"""Per-recipient values filled into a built issue: escaping, fallbacks, missing values."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from mailer.compose.build import build_issue
from mailer.compose.personalize import (
    PLACEHOLDER_NAMES,
    Template,
    load_built,
    marker,
    neutral_values,
    sample_values,
)
from mailer.errors import IssueError
from tests.fixtures_compose import SECTIONS, compose_settings

VALUES = {
    "name": "<Anna & Co>",
    "email": "anna@example.se",
    "unsubscribe_url": "https://news.example.se/unsubscribe/tok?a=1&b=2",
    "preferences_url": "https://news.example.se/preferences/tok",
}


def test_html_template_escapes_values():
    filled = Template("<p>Hej %%name%%!</p>", escape_html=True).fill(VALUES)
    assert filled == "<p>Hej &lt;Anna &amp; Co&gt;!</p>"


def test_text_template_inserts_values_as_they_are():
    filled = Template("Hej %%name%%! %%unsubscribe_url%%", escape_html=False).fill(VALUES)
    assert filled == "Hej <Anna & Co>! https://news.example.se/unsubscribe/tok?a=1&b=2"


def test_fallback_is_used_for_an_empty_or_absent_value():
    template = Template("Hej %%name|vän%%!", escape_html=True)
    assert template.fill({"name": ""}) == "Hej vän!"
    assert template.fill({}) == "Hej vän!"
    assert template.fill({"name": "Bo"}) == "Hej Bo!"


def test_missing_value_without_fallback_raises():
    template = Template('<a href="%%unsubscribe_url%%">x</a>', escape_html=True)
    with pytest.raises(KeyError, match="unsubscribe_url"):
        template.fill({"name": "Bo"})


def test_every_occurrence_is_filled_and_values_are_not_filled_again():
    template = Template("%%email%% / %%email%% / %%name%%", escape_html=False)
    assert template.names == frozenset({"email", "name"})
    filled = template.fill({"email": "a@example.se", "name": "%%email%%"})
    assert filled == "a@example.se / a@example.se / %%email%%"


def test_unknown_marker_names_are_left_alone_and_refused_by_marker():
    assert Template("%%colour%%", escape_html=True).fill({}) == "%%colour%%"
    with pytest.raises(KeyError):
        marker("colour")
    assert marker("name", "vän") == "%%name|vän%%"


def test_built_example_fills_every_placeholder(compose_examples):
    result = compose_examples["2018-2"]
    built = load_built(result.out_dir.parent)
    assert set(PLACEHOLDER_NAMES) - {"name"} <= built.html.names
    html = built.html.fill(VALUES)
    text = built.text.fill(VALUES)
    assert "%%" not in html and "%%" not in text
    root = lxml_html.fromstring(html)
    hrefs = root.xpath("//a/@href")
    assert VALUES["unsubscribe_url"] in hrefs and VALUES["preferences_url"] in hrefs
    assert "&amp;b=2" in html  # escaped inside the attribute, read back as &
    assert VALUES["unsubscribe_url"] in text
    assert built.meta["slug"] == "2018-2"


def test_name_placeholder_written_in_markdown_is_personalised(issue_factory):
    sections = {**SECTIONS, "02-text.md": "---\nlayout: text\n---\nHej %%name|vän%%!\n"}
    issue_dir = issue_factory(sections=sections)
    build_issue(issue_dir, compose_settings())
    built = load_built(issue_dir)
    assert "Hej &lt;Anna &amp; Co&gt;!" in built.html.fill(VALUES)
    assert "Hej <Anna & Co>!" in built.text.fill(VALUES)
    assert "Hej vän!" in built.html.fill({**VALUES, "name": ""})
    # the public web version never carries a reader's data: the fallback shows
    assert "Hej vän!" in (issue_dir / "build" / "web.html").read_text(encoding="utf-8")


def test_load_built_before_building_says_how_to_build(issue_factory):
    with pytest.raises(IssueError, match="not built; run 'newsletter build"):
        load_built(issue_factory())


def test_sample_and_neutral_values_cover_every_placeholder():
    sample = sample_values({"base_url": "https://news.example.se/"})
    assert set(sample) == set(PLACEHOLDER_NAMES)
    assert sample["unsubscribe_url"] == "https://news.example.se/unsubscribe/preview"
    neutral = neutral_values("https://news.example.se")
    assert set(neutral) == set(PLACEHOLDER_NAMES) and neutral["name"] == ""
    assert neutral["unsubscribe_url"] == "https://news.example.se/subscribe"
