"""The bundled example issues (tests/fixtures/issues/), built from a copy, pass the check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mailer.check import check_content
from mailer.compose.build import build_issue

FIXTURE_ISSUES = Path(__file__).resolve().parent / "fixtures" / "issues"
EXAMPLES = sorted(path.name for path in FIXTURE_ISSUES.iterdir() if (path / "issue.md").is_file())


@pytest.fixture(scope="module")
def built_examples(tmp_path_factory) -> Path:
    """A copy of newsletters/ (without old builds) with every example issue built."""
    from mailer.config import load_settings

    settings = load_settings(
        {
            "base_url": "https://news.example.se",
            "from_address": "Region Örebro län <nyhetsbrev@example.se>",
        },
        env_file=None,
        environ={},
    )
    root = tmp_path_factory.mktemp("examples") / "newsletters"
    shutil.copytree(FIXTURE_ISSUES, root, ignore=shutil.ignore_patterns("build", ".build-*"))
    for name in EXAMPLES:
        build_issue(root / name, settings)
    return root


def test_there_are_bundled_examples():
    assert EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_bundled_example_has_no_errors_and_a_low_spam_score(name, built_examples, settings):
    report = check_content(built_examples / name, settings)
    assert report.errors == [], report.format_text()
    assert "build-stale" not in {f.code for f in report.warnings}
    if shutil.which("spamassassin"):
        spam = report.facts["spam"]
        assert spam["score"] < 2.0, spam["rules"]
    # every finding says where to look and what to do
    for finding in report.warnings:
        assert finding.location and finding.advice, finding


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_built_for_https_has_no_warnings_only_notes_on_template_fallbacks(
    name, built_examples, settings
):
    """Warnings on every issue about nothing the editor can change teach editors to skip them:
    the bundled templates' deliberate fallbacks are notes, and a sound issue warns of nothing."""
    report = check_content(built_examples / name, settings, spam=False)
    assert [f.message for f in report.warnings if f.code != "build-stale"] == []
    notes = [f for f in report.findings if f.code == "client-fallback"]
    assert notes and all(f.severity == "note" for f in notes)
    assert any("Outlook Windows ignores border-radius" in f.message for f in notes)
