"""The user's issues are not test fixtures: writing an issue into newsletters/ (as the README's
walkthrough does with `newsletter new 2026-3`) leaves the test suite unchanged and green."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_compose import EXAMPLE_SLUGS, FIXTURE_ISSUES, GOLDEN_DIR

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SKIP = ("build", ".build-*", "__pycache__", "screenshots", ".git", "*.db", ".pytest_cache")


def test_golden_tests_cover_the_fixture_issues_not_the_newsletters_folder():
    assert sorted(p.name for p in GOLDEN_DIR.iterdir() if p.is_dir()) == EXAMPLE_SLUGS
    assert all(FIXTURE_ISSUES in (FIXTURE_ISSUES / slug).parents for slug in EXAMPLE_SLUGS)


@pytest.mark.slow
def test_a_new_issue_in_newsletters_does_not_change_the_tests(tmp_path):
    """In a copy of the project: `newsletter new 2026-3`, then the golden tests still pass and
    no collected test is about 2026-3."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT, copy, ignore=shutil.ignore_patterns(*SKIP))
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    for name in list(env):
        if name.startswith("NEWSLETTER_") or name.startswith("PYTEST_"):
            del env[name]
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=300
    )
    created = run("cli.py", "new", "2026-3")
    assert created.returncode == 0, created.stderr
    assert (copy / "newsletters" / "2026-3" / "issue.md").is_file()

    collected = run("-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "test_golden.py::test_example_matches_its_golden_files[2018-2]" in collected.stdout
    assert "[2026-3]" not in collected.stdout

    golden = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_golden.py")
    assert golden.returncode == 0, golden.stdout + golden.stderr
    assert "passed" in golden.stdout
