"""`newsletter check` and `newsletter refresh-caniemail` through Click's CliRunner."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from mailer.check.caniemail import BUNDLED_DIR, DATA_FILE, CaniemailError, load_features
from mailer.check.caniemail import refresh_caniemail as refresh

BASE = ["--env-file", "/nonexistent.env"]
ENV = {"NEWSLETTER_BASE_URL": "https://news.example.se"}


def run(*args: str):
    return CliRunner().invoke(cli, [*BASE, *args], env=ENV, catch_exceptions=False)


def test_check_passes_the_good_fixture_with_exit_status_zero(built_issue):
    result = run("check", str(built_issue()), "--no-spam", "--no-render")
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
    assert "ready to send" in result.output


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
    assert result.exit_code == 0
    assert data["ok"] is True
    assert data["errors"] == []
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


def _tarball(path: Path, data: dict, version: str = "9.9.9", licence: bool = True) -> Path:
    files = {
        "package/package.json": json.dumps({"name": "caniemail", "version": version}).encode(),
        f"package/data/{DATA_FILE}": json.dumps(data).encode(),
    }
    if licence:
        files["package/LICENSE"] = b"MIT License\n"
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


SMALL_DATA = {
    "data": [{"slug": "html-video", "title": "<video> element", "category": "html", "stats": {}}]
}


def test_refresh_installs_data_licence_and_readme_from_a_tarball(tmp_path):
    dest = tmp_path / "caniemail"
    version = refresh(tarball=_tarball(tmp_path / "c.tgz", SMALL_DATA), dest=dest)
    assert version == "9.9.9"
    assert json.loads((dest / DATA_FILE).read_text()) == SMALL_DATA
    assert (dest / "LICENSE").read_text().startswith("MIT")
    readme = (dest / "README.md").read_text()
    assert "version 9.9.9" in readme and "SHA-256" in readme
    assert set(load_features(dest / DATA_FILE)) == {"html-video"}


def test_refresh_refuses_a_package_without_support_data_and_keeps_the_old(tmp_path):
    dest = tmp_path / "caniemail"
    refresh(tarball=_tarball(tmp_path / "good.tgz", SMALL_DATA), dest=dest)
    before = (dest / DATA_FILE).read_bytes()
    with pytest.raises(CaniemailError, match="not caniemail support data"):
        refresh(tarball=_tarball(tmp_path / "bad.tgz", {"nothing": 1}), dest=dest)
    with pytest.raises(CaniemailError, match="LICENSE"):
        refresh(tarball=_tarball(tmp_path / "nolic.tgz", SMALL_DATA, licence=False), dest=dest)
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
