"""Fixtures for the compose tests: the examples built once, small issues written on the fly.

Also the `--update-golden` option: `python -m pytest tests/test_golden.py --update-golden`
rewrites tests/golden/ from the example issues instead of comparing against it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailer.compose.build import BuildResult, build_issue
from mailer.compose.scaffold import gradient_png
from mailer.config import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The bundled examples' sources, copied: tests never read the user's newsletters/ folder, so
# an issue the user writes there (`newsletter new 2026-3`) is not a test case. A change to a
# shipped example is copied here too (then refresh the goldens with --update-golden).
FIXTURE_ISSUES = Path(__file__).resolve().parent / "fixtures" / "issues"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
COMPOSE_BASE_URL = "https://news.example.se"
EXAMPLE_SLUGS = sorted(p.parent.name for p in FIXTURE_ISSUES.glob("*/issue.md"))

SITE_YML = """\
organisation: Testföreningen i Orten
address: Box 1, 111 11 Orten
web: https://www.example.se/
email: info@example.se
phone: 010-123 45 67
"""

ISSUE_MD = """\
---
title: Testbrevet
issue: "2026:1"
date: 2026-03-01
preheader: Det här numret handlar om tester och annat.
language: sv
list: nyhetsbrev
---
"""

SECTIONS = {
    "01-intro.md": """\
---
layout: article
image: images/hero.png
image_alt: En blå himmel
button_text: Läs hela programmet
button_url: https://www.example.se/program
---
# Välkommen

Första stycket med en [länk till oss](https://www.example.se/om).
""",
    "02-text.md": """\
---
layout: text
---
## Mer text

- ett
- två
""",
}

IMAGES = {"hero.png": (600, 300)}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the example issues instead of comparing",
    )


def compose_settings(base_url: str = COMPOSE_BASE_URL) -> Settings:
    """Settings for building: only the base URL matters to the build."""
    return load_settings(
        {"base_url": base_url, "from_address": "Testföreningen <nyhetsbrev@example.se>"},
        env_file=None,
        environ={},
    )


def copy_examples(target: Path) -> Path:
    """A copy of the fixture issues without old builds (tests never write into the project)."""
    shutil.copytree(FIXTURE_ISSUES, target, ignore=shutil.ignore_patterns("build", ".build-*"))
    return target


def write_issue(
    root: Path,
    *,
    slug: str = "2026-1",
    issue_md: str = ISSUE_MD,
    sections: dict[str, str] | None = None,
    images: dict[str, tuple[int, int]] | None = None,
    site: str | None = SITE_YML,
) -> Path:
    """Write a small valid issue (or a variant of it) into root/slug and return its folder."""
    root.mkdir(parents=True, exist_ok=True)
    if site is not None:
        (root / "newsletter.yml").write_text(site, encoding="utf-8")
    issue_dir = root / slug
    (issue_dir / "images").mkdir(parents=True)
    (issue_dir / "issue.md").write_text(issue_md, encoding="utf-8")
    for name, text in (SECTIONS if sections is None else sections).items():
        (issue_dir / name).write_text(text, encoding="utf-8")
    for name, (width, height) in (IMAGES if images is None else images).items():
        png = gradient_png(width, height, (200, 220, 230), (20, 90, 110))
        (issue_dir / "images" / name).write_bytes(png)
    return issue_dir


@pytest.fixture(scope="session")
def compose_examples(tmp_path_factory) -> dict[str, BuildResult]:
    """Every example issue, copied and built once per session with COMPOSE_BASE_URL."""
    root = copy_examples(tmp_path_factory.mktemp("compose") / "newsletters")
    settings = compose_settings()
    return {slug: build_issue(root / slug, settings) for slug in EXAMPLE_SLUGS}


@pytest.fixture
def issue_factory(tmp_path) -> Callable[..., Path]:
    """`issue_factory(sections=..., issue_md=..., images=...)` writes a small issue."""
    return lambda **kw: write_issue(tmp_path / "newsletters", **kw)


@pytest.fixture
def compose_cli() -> Callable[..., Result]:
    """Run `newsletter ARGS` in-process through Click's test runner (stderr kept apart)."""
    from cli import cli

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return run
