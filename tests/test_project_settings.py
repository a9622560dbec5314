"""No silent defaults, and one project folder: `newsletter config`, the missing-.env note,
`--env-file` errors, and the project root found from any subfolder like git's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.config import find_project_root, load_settings
from mailer.errors import ConfigError
from mailer.store.db import open_db
from tests.fixtures_compose import write_issue

SECRET = "a-very-secret-key-0123456789"
PASSWORD = "hunter2-smtp-password"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env or {})


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder: .env, newsletters/ with one issue; the current directory is its root."""
    root = tmp_path / "project"
    write_issue(root / "newsletters", slug="2026-3")
    (root / ".env").write_text(
        f"NEWSLETTER_SECRET_KEY={SECRET}\nSMTP_PASSWORD={PASSWORD}\n"
        "NEWSLETTER_DB=data/subscribers.db\nSMTP_HOST=smtp.example.se\n",
        encoding="utf-8",
    )
    (root / "data").mkdir()
    open_db(root / "data" / "subscribers.db").close()  # read commands never create one
    monkeypatch.chdir(root)
    return root


def test_config_prints_every_setting_with_its_source_and_masks_secrets(project):
    result = run("--db", "other.db", "config", env={"SMTP_PORT": "2525"})
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line}
    assert f"Project folder: {project}" in result.output
    assert f"Settings file:  {project / '.env'}" in result.output
    assert "smtp.example.se" in lines["SMTP_HOST"] and lines["SMTP_HOST"].endswith("[.env]")
    assert lines["SMTP_PORT"].endswith("[environment]") and "2525" in lines["SMTP_PORT"]
    assert lines["NEWSLETTER_DB"].endswith("[option]")
    assert lines["SMTP_SECURITY"].endswith("[default]")
    assert "placeholder" in lines["NEWSLETTER_FROM"]
    assert SECRET not in result.output and PASSWORD not in result.output
    assert f"({len(SECRET)} characters)" in lines["NEWSLETTER_SECRET_KEY"]
    assert "(not set)" in lines["DKIM_PRIVATE_KEY"]


def test_a_missing_env_is_said_once_and_a_present_one_is_not(tmp_path, monkeypatch):
    bare = tmp_path / "bare"
    bare.mkdir()
    open_db(bare / "subscribers.db").close()  # outside a site folder no command creates one
    monkeypatch.chdir(bare)
    result = run("subscribers", "stats")
    assert result.exit_code == 0, result.output
    assert result.output.count("Note: no .env in") == 1
    assert "newsletter config" in result.output
    (bare / ".env").write_text("SMTP_HOST=x\n", encoding="utf-8")
    assert "Note: no .env" not in run("subscribers", "stats").output


def test_env_file_naming_a_missing_file_is_an_error(project):
    result = run("--env-file", ".evn", "config")
    assert result.exit_code == 2
    assert "'.evn' does not exist" in result.output
    with pytest.raises(ConfigError, match=r"--env-file \.evn: no such file"):
        load_settings(env_file=".evn", require_env_file=True, environ={})


def test_run_from_a_subfolder_uses_the_projects_env_and_database(project, monkeypatch):
    monkeypatch.chdir(project / "newsletters")
    result = run("subscribers", "stats")
    assert result.exit_code == 0, result.output
    assert not (project / "newsletters" / "subscribers.db").exists()
    assert (project / "data" / "subscribers.db").is_file()  # NEWSLETTER_DB from .env, at the root
    shown = run("config").output
    assert f"Project folder: {project}" in shown and "smtp.example.se" in shown


def test_build_finds_an_issue_by_its_name_from_anywhere_in_the_project(project, monkeypatch):
    built = run("build", "2026-3", "--base-url", "https://news.example.se")
    assert built.exit_code == 0, built.output
    assert (project / "newsletters" / "2026-3" / "build" / "email.html").is_file()
    monkeypatch.chdir(project / "newsletters" / "2026-3" / "images")
    again = run("build", "2026-3", "--base-url", "https://news.example.se")
    assert again.exit_code == 0, again.output
    missing = run("build", "2026-4")
    assert missing.exit_code == 2
    assert "issue folder '2026-4' does not exist" in missing.output
    assert str(project / "newsletters" / "2026-4") in missing.output


def test_new_writes_into_the_projects_newsletters_folder_from_a_subfolder(project, monkeypatch):
    (project / "docs").mkdir()
    monkeypatch.chdir(project / "docs")
    result = run("new", "2026-5")
    assert result.exit_code == 0, result.output
    assert (project / "newsletters" / "2026-5" / "issue.md").is_file()
    assert not (project / "docs" / "newsletters").exists()


def test_project_root_markers_and_the_newsletters_folder_is_not_a_root(tmp_path):
    root = tmp_path / "p"
    (root / "newsletters" / "2026-1").mkdir(parents=True)
    (root / "newsletters" / "newsletter.yml").write_text("organisation: X\n")
    assert find_project_root(root / "newsletters" / "2026-1") == root.resolve()
    solo = tmp_path / "solo"
    (solo / "deep").mkdir(parents=True)
    (solo / "newsletter.yml").write_text("organisation: X\n")
    assert find_project_root(solo / "deep") == solo.resolve()
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    if not any(
        (p / m).exists() for p in nowhere.resolve().parents for m in ("newsletters", ".env")
    ):
        assert find_project_root(nowhere) == nowhere.resolve()
    assert os.path.isabs(find_project_root())
    assert isinstance(find_project_root(), Path)


def test_an_smtp_server_from_the_defaults_is_named_as_such_when_it_cannot_be_reached():
    from mailer.delivery.smtp import SmtpTransport
    from mailer.errors import MailerError
    from tests.fixtures_send import free_port

    port = str(free_port())  # nothing listens there
    settings = load_settings(env_file=None, environ={"SMTP_PORT": port, "SMTP_SECURITY": "none"})
    with pytest.raises(MailerError) as caught:
        SmtpTransport(settings).connect()
    message = str(caught.value)
    assert f"cannot connect to SMTP server localhost:{port}" in message
    assert "SMTP_HOST not set: that is the default; set it in .env" in message
