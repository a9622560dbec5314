"""Faults from issue 21 end in one clear line, never a traceback: deeply nested front matter and
Markdown, a full disk during send, sign-up, import and bounce import, a database locked beyond
the limit."""

from __future__ import annotations

import pytest

from mailer.compose.issue import read_issue
from mailer.compose.site import load_site
from mailer.errors import IssueError

DEEP = 2000


def section(text: str) -> dict[str, str]:
    return {"01-intro.md": "---\nlayout: text\n---\nText.\n", "02-x.md": text}


@pytest.mark.parametrize(
    "nested",
    [
        "deep: " + "[" * DEEP + "x" + "]" * DEEP,
        "deep: " + "{a: " * DEEP + "x" + "}" * DEEP,
        "deep:\n" + "".join(" " * n + "- \n" for n in range(DEEP)),
        "deep:\n" + "".join(" " * (n + 1) + "a:\n" for n in range(DEEP)),
    ],
    ids=["flow-list", "flow-map", "block-list", "block-map"],
)
def test_front_matter_nested_2000_deep_is_an_error_naming_the_file(issue_factory, nested):
    issue = issue_factory(sections=section(f"---\nlayout: text\n{nested}\n---\nText.\n"))
    with pytest.raises(IssueError, match=r"02-x\.md:\d+: values are nested more than 50 levels"):
        read_issue(issue)


def test_a_deeply_nested_site_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "newsletter.yml").write_text("organisation: " + "[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(IssueError, match=r"newsletter\.yml:1: values are nested more than 50"):
        load_site(tmp_path)


@pytest.mark.parametrize("marker", ["> ", "- ", "1. ", "* > "])
def test_markdown_nested_2000_deep_builds_or_says_why_without_a_traceback(
    issue_factory, compose_cli, marker
):
    body = "".join(marker * n + "x\n" for n in range(1, 60)) + marker * DEEP + "deep\n"
    issue = issue_factory(sections=section("---\nlayout: text\n---\n" + body))
    result = compose_cli("build", issue)
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code in (0, 1), result.output + result.stderr
    if result.exit_code:
        assert "02-x.md" in result.stderr
