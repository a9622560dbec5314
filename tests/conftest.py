"""Shared fixtures: an isolated environment, settings, a fresh database file, headless Chromium.

Each area keeps its own fixtures in `tests/fixtures_<area>.py`, loaded here as plugins.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mailer.check.rendering import LAUNCH_ARGS
from mailer.config import ENV_NAMES, Settings, load_settings

pytest_plugins = [
    "tests.fixtures_compose",
    "tests.fixtures_subscribers",
    "tests.fixtures_send",
    "tests.fixtures_web",
    "tests.fixtures_check",
    "tests.fixtures_bounces",
    "tests.fixtures_oauth",
    "tests.fixtures_faults",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SECRET_KEY = "test-secret-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's settings or writes into the project folder.

    The test's folder is a project of its own (an empty .env marks it), so commands find their
    project root there and do not say that .env is missing; tests of that remove it.
    """
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    # a send keeps a PDF copy with Chromium (seconds each); the tests of that turn it on
    monkeypatch.setenv("NEWSLETTER_ARCHIVE_PDF", "off")
    # the person's data folder (refreshed caniemail data) is the test's own
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    work = tmp_path / "work"
    work.mkdir()
    (work / ".env").write_text("# settings of this test come from the test\n")
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings for a test: a database in the test's folder, a secret key, a loopback base URL."""
    return load_settings(
        {
            "db_path": tmp_path / "subscribers.db",
            "secret_key": SECRET_KEY,
            "from_address": "Region Örebro län <nyhetsbrev@example.se>",
            "base_url": "https://news.example.se",
        },
        env_file=None,
        environ={},
    )


@pytest.fixture
def db(settings):
    """A fresh, migrated database file."""
    from mailer.store.db import open_db

    database = open_db(settings.db_path)
    yield database
    database.close()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright, using the system's /usr/bin/chromium."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run the tests with tools/test, which installs "
            "the Debian packages they need (tools/debian-packages), or: "
            "sudo apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=LAUNCH_ARGS,
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (own context: no cookies shared between tests)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where browser tests save screenshots for people to look at (ignored by git)."""
    path = PROJECT_ROOT / "screenshots"
    path.mkdir(exist_ok=True)
    return path
