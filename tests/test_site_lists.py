"""Each email's "why you get this" line names the LIST as newsletter.yml calls it in the
issue's language (not the issue's title), in the HTML and the plain text alike."""

from __future__ import annotations

from mailer.compose.issue import read_issue
from mailer.compose.render import issue_context
from tests.fixtures_web import FIXTURE_ISSUES


def test_the_footer_names_the_list_in_the_issues_language(settings):
    swedish = issue_context(read_issue(FIXTURE_ISSUES / "2018-2"), settings)
    assert swedish["list_title"] == "Nyhetsbrevet"
    assert "prenumererar på Nyhetsbrevet från Partnerskapet" in swedish["why"]
    danish = issue_context(read_issue(FIXTURE_ISSUES / "2026-11-graenseregion"), settings)
    assert danish["list_title"] == "Nyhedsbrev for partnere"
    assert "Nyhedsbrev for partnere" in danish["why"]
    assert "Grænseregionens Partnerskab" in danish["why"]  # the issue's own organisation


def test_a_list_without_a_name_keeps_the_issue_title(settings, tmp_path):
    import shutil

    root = tmp_path / "newsletters"
    shutil.copytree(FIXTURE_ISSUES / "2018-2", root / "2018-2")
    shutil.copytree(FIXTURE_ISSUES / "assets", root / "assets")
    (root / "newsletter.yml").write_text(
        "organisation: Org\nlogo: assets/logo.png\nlists:\n  other: {name: Annat}\n",
        encoding="utf-8",
    )
    context = issue_context(read_issue(root / "2018-2"), settings)
    assert context["list_title"] == "Nyhetsbrev"
