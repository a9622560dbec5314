"""`newsletter check` and `newsletter refresh-caniemail` through Click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.check.caniemail import BUNDLED_DIR, DATA_FILE, CaniemailError, load_features
from mailer.check.caniemail import refresh_caniemail as refresh
from tests.fixtures_check import caniemail_tarball

BASE: list[str] = []  # the test folder's empty .env (conftest.isolated_env)
ENV = {"NEWSLETTER_BASE_URL": "https://news.example.se"}


def run(*args: str):
    return CliRunner().invoke(cli, [*BASE, *args], env=ENV, catch_exceptions=False)


def test_check_finds_nothing_in_the_good_fixtures_content_but_the_gate_still_says_no(built_issue):
    """The fixture is a hand-written build with no database: fine content, not sendable."""
    result = run("check", str(built_issue()), "--no-spam", "--no-render")
    assert result.exit_code == 1, result.output
    errors = result.output.split("Warnings:")[0].split("Notes:")[0]
    assert "[send]" in errors and "no subscriber database" in errors
    assert {line.split("]")[0] for line in errors.splitlines() if "  [" in line} == {"  [send"}
    assert "ready to send" not in result.output


def test_check_exits_non_zero_and_names_the_section_on_errors(built_issue):
    alt = ' alt="Solnedgång över Hjälmaren med en ensam roddbåt"'
    issue = built_issue([("build/email.html", alt, "")])
    result = run("check", str(issue), "--no-spam", "--no-render")
    assert result.exit_code == 1
    assert f"{issue / '03-fotopris.md'}" in result.output
    assert "fix the errors before sending" in result.output


def test_check_json_gives_the_same_report_for_machines(built_issue):
    issue = built_issue([("build/email.html", "Läs i webbläsaren</a>", "Läs mer</a>")])
    result = run("check", str(issue), "--json", "--no-spam", "--no-render")
    data = json.loads(result.output)
    assert result.exit_code == 1  # the send gate: a hand-written build, no database
    assert data["ok"] is False
    assert [e for e in data["errors"] if e["check"] != "send"] == []
    vague = [w for w in data["warnings"] if w["code"] == "link-vague"]
    assert vague and vague[0]["advice"]
    assert data["facts"]["html_transfer_encoding"] == "quoted-printable"


def test_check_without_a_build_says_how_to_build(tmp_path):
    (tmp_path / "2026-09").mkdir()
    result = run("check", str(tmp_path / "2026-09"))
    assert result.exit_code != 0
    assert "newsletter build" in result.output


def test_check_help_documents_json_and_exit_status():
    result = run("check", "--help")
    assert "--json" in result.output
    assert "status 1" in result.output


SMALL_DATA = {
    "data": [{"slug": "html-video", "title": "<video> element", "category": "html", "stats": {}}]
}


def test_refresh_installs_data_licence_and_readme_from_a_tarball(tmp_path):
    dest = tmp_path / "caniemail"
    version = refresh(tarball=caniemail_tarball(tmp_path / "c.tgz", SMALL_DATA), dest=dest)
    assert version == "9.9.9"
    assert json.loads((dest / DATA_FILE).read_text()) == SMALL_DATA
    assert (dest / "LICENSE").read_text().startswith("MIT")
    readme = (dest / "README.md").read_text()
    assert "version 9.9.9" in readme and "SHA-256" in readme
    assert set(load_features(dest / DATA_FILE)) == {"html-video"}


def test_refresh_refuses_a_package_without_support_data_and_keeps_the_old(tmp_path):
    dest = tmp_path / "caniemail"
    refresh(tarball=caniemail_tarball(tmp_path / "good.tgz", SMALL_DATA), dest=dest)
    before = (dest / DATA_FILE).read_bytes()
    with pytest.raises(CaniemailError, match="not caniemail support data"):
        refresh(tarball=caniemail_tarball(tmp_path / "bad.tgz", {"nothing": 1}), dest=dest)
    with pytest.raises(CaniemailError, match="LICENSE"):
        refresh(
            tarball=caniemail_tarball(tmp_path / "nolic.tgz", SMALL_DATA, licence=False), dest=dest
        )
    assert (dest / DATA_FILE).read_bytes() == before


def test_refresh_command_reports_a_bad_tarball_as_an_error(tmp_path):
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"not a tarball")
    result = run("refresh-caniemail", "--tarball", str(bad))
    assert result.exit_code == 1
    assert "not a readable npm tarball" in result.output


def test_bundled_data_is_caniemail_with_its_licence_and_source():
    features = load_features()
    assert {"css-max-width", "html-svg", "image-webp"} <= set(features)
    assert "MIT License" in (BUNDLED_DIR / "LICENSE").read_text()
    assert "npm package `caniemail` version" in (BUNDLED_DIR / "README.md").read_text()
