"""The editor's preview: frames at two widths, plain text, rebuild on change, errors in the page."""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest
from click.testing import CliRunner

from cli import cli
from tests.fixtures_web import FIXTURE_ISSUES, example_slugs


@pytest.fixture
def issue_dir(tmp_path):
    """The first example issue, with the shared files beside it, in the test's folder."""
    source = FIXTURE_ISSUES
    target = tmp_path / "newsletters"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("build", ".build-*"))
    return target / example_slugs()[0]


@pytest.fixture
def preview_app(settings, issue_dir):
    from mailer.web import create_app

    local = dataclasses.replace(settings, base_url="http://127.0.0.1:8001", secret_key="")
    return create_app(local, preview_issue=issue_dir)


def touch_later(path, text):
    """Rewrite `path` so that its modification time surely differs from before."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def first_section(issue_dir):
    return sorted(p for p in issue_dir.glob("[0-9]*.md"))[1]


def test_preview_shows_the_email_at_desktop_and_phone_width_and_the_text(preview_app):
    response = preview_app.test_client().get("/preview/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('src="http://127.0.0.1:8001/preview/email.html"') == 3
    assert "Desktop (800 px)" in page and "Phone (375 px)" in page
    assert "Small phone (320 px)" in page  # the handset frame (issue 15)
    assert "<pre>" in page and "%%" not in page
    assert 'class="error"' not in page


def test_preview_email_has_sample_values_and_may_be_framed_only_by_the_preview(preview_app):
    response = preview_app.test_client().get("/preview/email.html")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "%%" not in html
    assert "http://127.0.0.1:8001/preferences/preview" in html
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_preview_page_may_run_its_own_script_only(preview_app):
    response = preview_app.test_client().get("/preview/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert 'src="http://127.0.0.1:8001/static/preview.js"' in response.get_data(as_text=True)


def test_preview_rebuilds_when_a_section_changes(preview_app, issue_dir):
    client = preview_app.test_client()
    version = client.get("/preview/version").get_json()["version"]
    assert client.get("/preview/version").get_json()["version"] == version  # nothing changed
    section = first_section(issue_dir)
    touch_later(section, section.read_text(encoding="utf-8") + "\n\nEn alldeles ny mening.\n")
    state = client.get("/preview/version").get_json()
    assert state == {"version": version + 1, "error": False}
    assert "En alldeles ny mening." in client.get("/preview/email.html").get_data(as_text=True)


def test_preview_shows_a_build_error_in_the_page_and_recovers(preview_app, issue_dir):
    client = preview_app.test_client()
    section = first_section(issue_dir)
    good = section.read_text(encoding="utf-8")
    touch_later(section, "---\nlayout: [unclosed\n---\nText\n")
    assert client.get("/preview/version").get_json()["error"] is True
    page = client.get("/preview/").get_data(as_text=True)
    assert 'class="error"' in page and section.name in page
    touch_later(section, good)
    assert client.get("/preview/version").get_json()["error"] is False
    assert 'class="error"' not in client.get("/preview/").get_data(as_text=True)


def test_preview_serves_the_issue_images_before_it_is_sent(preview_app, issue_dir):
    image = next((issue_dir / "build" / "images").iterdir()).name
    with preview_app.test_client().get(f"/archive/{issue_dir.name}/images/{image}") as response:
        assert response.status_code == 200


def test_preview_creates_no_database(preview_app, settings):
    preview_app.test_client().get("/archive/")
    assert not settings.db_path.exists()


def test_preview_and_serve_commands_explain_themselves():
    runner = CliRunner()
    preview = runner.invoke(cli, ["preview", "--help"])
    serve = runner.invoke(cli, ["serve", "--help"])
    assert preview.exit_code == serve.exit_code == 0
    assert "375 px" in preview.output and "--port" in preview.output
    assert "--host" in serve.output and "one-click" in serve.output


def test_preview_command_refuses_a_missing_issue_folder(tmp_path):
    result = CliRunner().invoke(cli, ["preview", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert "does not exist" in result.output


def test_serve_command_without_a_secret_key_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "s.db"), "serve", "--port", "1"])
    assert result.exit_code == 1
    assert "NEWSLETTER_SECRET_KEY" in result.output


def test_wsgi_module_builds_the_app_from_the_environment(monkeypatch, tmp_path):
    import importlib
    import sys

    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "wsgi-secret-0123456789abcdef")
    monkeypatch.setenv("NEWSLETTER_DB", str(tmp_path / "wsgi.db"))
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://news.example.org")
    sys.modules.pop("mailer.web.wsgi", None)
    wsgi = importlib.import_module("mailer.web.wsgi")
    try:
        page = wsgi.app.test_client().get("/subscribe").get_data(as_text=True)
        assert 'href="https://news.example.org/archive/"' in page
    finally:
        sys.modules.pop("mailer.web.wsgi", None)


def test_a_waiting_preview_page_is_answered_when_a_section_changes(preview_app, issue_dir):
    import threading

    preview_app.config["PREVIEW_WAIT_SECONDS"] = 10
    client = preview_app.test_client()
    version = client.get("/preview/version").get_json()["version"]
    answers = []
    waiter = threading.Thread(
        target=lambda: answers.append(client.get(f"/preview/changes?since={version}").get_json())
    )
    waiter.start()
    section = first_section(issue_dir)
    touch_later(section, section.read_text(encoding="utf-8") + "\n\nSkickad direkt.\n")
    waiter.join(timeout=10)
    assert answers == [{"version": version + 1, "error": False, "busy": False}]
    assert "Skickad direkt." in client.get("/preview/email.html").get_data(as_text=True)


def test_a_waiting_question_ends_when_nothing_changes_and_open_questions_are_bounded(
    preview_app,
):
    from mailer.web.preview import MAX_WAITERS

    preview_app.config["PREVIEW_WAIT_SECONDS"] = 0.2
    client = preview_app.test_client()
    version = client.get("/preview/version").get_json()["version"]
    answer = client.get(f"/preview/changes?since={version}")
    assert answer.get_json() == {"version": version, "error": False, "busy": False}
    assert answer.headers["Cache-Control"] == "no-store"
    state = preview_app.extensions["preview"]
    taken = [state._waiters.acquire(blocking=False) for _ in range(MAX_WAITERS)]
    try:
        assert all(taken)
        busy = client.get(f"/preview/changes?since={version}").get_json()
        assert busy == {"version": version, "error": False, "busy": True}  # at once, not held
    finally:
        for _ in taken:
            state._waiters.release()
