"""The deploy guide's pieces: systemd units that systemd accepts and that match the install the
guide uses, and the DNS records `newsletter config --dns` prints."""

from __future__ import annotations

import base64
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cli import cli

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "docs" / "systemd").glob("newsletter*"))
GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
SYSTEM_UNITS = next(
    (
        p
        for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
        if (p / "sysinit.target").exists()
    ),
    None,
)


def _unit_values(unit: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in unit.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{key}=")
    ]


def test_the_guide_ships_a_service_a_bounce_timer_and_a_backup_timer():
    names = {unit.name for unit in UNITS}
    assert {"newsletter.service", "newsletter-bounces.service", "newsletter-bounces.timer"} <= names
    assert {"newsletter-backup.service", "newsletter-backup.timer"} <= names


@pytest.mark.skipif(not SYSTEMD_ANALYZE or not SYSTEM_UNITS, reason="systemd-analyze not here")
def test_systemd_accepts_every_unit_without_a_warning(tmp_path):
    """`systemd-analyze verify` in a scratch root holding the program where the guide installs
    it: an unknown key, a typo'd section or a missing program fails the test."""
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr/lib/systemd/system", symlinks=True)
    commands = [
        v for u in UNITS for key in ("ExecStart", "ExecStartPost") for v in _unit_values(u, key)
    ]
    for program in {shlex.split(command)[0] for command in commands}:
        target = tmp_path / program.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("#!/bin/sh\n")
        target.chmod(0o755)
    etc = tmp_path / "etc/systemd/system"
    etc.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(unit, etc / unit.name)
    result = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "verify",
            "--man=no",
            f"--root={tmp_path}",
            *[f"/etc/systemd/system/{unit.name}" for unit in UNITS],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"Unknown|ignoring|not executable|Failed", output), output


def test_the_units_run_the_program_and_site_the_guide_installs():
    """ExecStart is where `pipx install` with the guide's PIPX_BIN_DIR puts the command, and
    WorkingDirectory is the site folder the guide makes with `newsletter init`."""
    bin_dir = re.search(r"PIPX_BIN_DIR=(\S+) pipx install", GUIDE).group(1)
    site = re.search(r"newsletter init (/\S+) --language", GUIDE).group(1)
    user = re.search(r"adduser --system .* (\w+)\n", GUIDE).group(1)
    for unit in (u for u in UNITS if u.suffix == ".service"):
        for command in _unit_values(unit, "ExecStart"):
            assert shlex.split(command)[0] == f"{bin_dir}/newsletter", unit.name
        assert _unit_values(unit, "WorkingDirectory") == [site], unit.name
        assert _unit_values(unit, "User") == [user], unit.name
        assert any(site.startswith(path) for path in _unit_values(unit, "ReadWritePaths"))


def test_every_command_in_the_units_is_one_the_tool_accepts():
    """Each ExecStart parses with the CLI's own options (a renamed option would fail at boot)."""
    for unit in UNITS:
        for command in _unit_values(unit, "ExecStart"):
            args = shlex.split(command)[1:]
            command_obj: click.Command = cli
            while isinstance(command_obj, click.Group):
                command_obj = command_obj.commands[args.pop(0)]
            command_obj.make_context(command_obj.name, args)  # raises on an unknown option


def _site(tmp_path: Path, **settings: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "dkim.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "newsletters").mkdir()
    lines = [f'{name}="{value}"' for name, value in settings.items()]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _config_dns(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(cli, ["config", "--dns"])


def test_config_dns_prints_spf_dkim_and_dmarc_for_the_sender(tmp_path, monkeypatch):
    public_der = _site(
        tmp_path,
        NEWSLETTER_FROM="Region Örebro län <nyhetsbrev@example.se>",
        SMTP_HOST="smtp.office365.com",
        DKIM_DOMAIN="example.se",
        DKIM_SELECTOR="nl2026",
        DKIM_PRIVATE_KEY="dkim.pem",
        NEWSLETTER_BOUNCE_ADDRESS="bounces@mail.example.se",
        NEWSLETTER_BASE_URL="https://news.example.se",
    )
    result = _config_dns(tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert 'example.se.\t3600\tIN\tTXT\t"v=spf1 include:spf.protection.outlook.com ~all"' in lines
    assert any(line.startswith("mail.example.se.\t") and "v=spf1" in line for line in lines)
    dkim = next(line for line in lines if line.startswith("nl2026._domainkey.example.se.\t"))
    value = "".join(re.findall(r'"([^"]*)"', dkim))
    assert value.startswith("v=DKIM1; k=rsa; p=")
    assert base64.b64decode(value.split("p=", 1)[1]) == public_der
    assert all(len(chunk) <= 255 for chunk in re.findall(r'"([^"]*)"', dkim))
    dmarc = next(line for line in lines if line.startswith("_dmarc.example.se.\t"))
    assert "v=DMARC1; p=none" in dmarc
    assert "news.example.se" in result.output  # the A record note
    assert "BEGIN" not in result.output and "PRIVATE" not in result.output


def test_config_dns_says_what_it_cannot_know(tmp_path, monkeypatch):
    _site(
        tmp_path, NEWSLETTER_FROM="Nyhetsbrev <nyhetsbrev@example.dk>", SMTP_HOST="relay.example.dk"
    )
    result = _config_dns(tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert '"v=spf1 a:relay.example.dk ~all"' in result.output
    assert "include:" in result.output  # the note on a provider's own include
    assert "DKIM is off" in result.output
    assert "_domainkey" not in result.output


def test_config_dns_without_a_sender_is_one_clear_line(tmp_path, monkeypatch):
    _site(tmp_path, SMTP_HOST="smtp.gmail.com")
    result = _config_dns(tmp_path, monkeypatch)
    assert result.exit_code != 0
    assert "NEWSLETTER_FROM" in result.output
    assert "Traceback" not in result.output
