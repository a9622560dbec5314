"""The small things a newcomer trips on (issue 13): examples in every --help, whole sentences
in command lists, one default list, resume hints that keep their options, plurals, and a README
whose first command installs the tool only and whose test command is what CI runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import cli
from mailer.config import DEFAULT_LIST
from tests.fixtures_send import add_subscribers, smtp_environment
from tests.test_cli_help import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def help_of(*path: str) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path))
def test_every_commands_help_has_an_example_of_itself(path):
    text = help_of(*path)
    has_example = re.search(r"^\s*Examples?\b[^\n]*:", text, re.M)
    assert has_example, f"{' '.join(path)} --help has no example"
    example = re.split(r"^\s*Examples?\b", text, maxsplit=1, flags=re.M)[1]
    assert re.search(rf"newsletter (\S+ )*{re.escape(path[-1])}\b", example), text


@pytest.mark.parametrize("path", [(), ("subscribers",)], ids=["newsletter", "subscribers"])
def test_command_lists_show_whole_sentences_not_cut_ones(path):
    text = help_of(*path)
    commands = text.split("Commands:")[1]
    assert "..." not in commands
    group = cli if not path else cli.commands[path[0]]
    assert isinstance(group, click.Group)
    for name in group.commands:
        assert re.search(rf"^  {re.escape(name)} ", commands, re.M), name


def test_new_and_add_share_one_default_list(tmp_path, settings):
    runner = CliRunner()
    created = runner.invoke(
        cli, ["new", "2026-3", "--dir", str(tmp_path / "n"), "--language", "en"]
    )
    assert created.exit_code == 0, created.output
    issue_md = (tmp_path / "n" / "2026-3" / "issue.md").read_text(encoding="utf-8")
    assert f"\nlist: {DEFAULT_LIST}\n" in issue_md
    added = runner.invoke(
        cli,
        ["--db", str(settings.db_path), "subscribers", "add", "a@example.se"],
        env={"NEWSLETTER_SECRET_KEY": settings.secret_key},
    )
    assert added.exit_code == 0, added.output
    lists = runner.invoke(cli, ["--db", str(settings.db_path), "subscribers", "lists"])
    assert lists.output.startswith(DEFAULT_LIST)
    assert f"default: {DEFAULT_LIST}" in help_of("subscribers", "import")


def test_the_resume_hint_keeps_rate_connections_and_force(db, settings, mail_sink, built_example):
    add_subscribers(db, settings, 3, "nyhetsbrev")
    env = smtp_environment(settings, mail_sink.port)
    args = ["--db", str(settings.db_path), "send", str(built_example), "--yes", "--limit", "1"]
    result = CliRunner().invoke(
        cli, [*args, "--rate", "50", "--connections", "2", "--force"], env=env
    )
    assert result.exit_code == 0, result.output
    assert (
        f"Run 'newsletter send {built_example} --rate 50 --connections 2 --force' again"
        in result.output
    )


def test_one_is_singular(db, settings, mail_sink, built_example, csv_file, tmp_path):
    add_subscribers(db, settings, 1, "nyhetsbrev")
    env = smtp_environment(settings, mail_sink.port)
    base = ["--db", str(settings.db_path)]
    dry = CliRunner().invoke(
        cli, [*base, "send", str(built_example), "--dry-run", str(tmp_path / "eml")], env=env
    )
    assert "Wrote 1 message of 2018-2" in dry.output
    sheet = csv_file([["one@example.se", "One", "sv"]])
    imported = CliRunner().invoke(cli, [*base, "subscribers", "import", str(sheet)], env=env)
    assert "imported 1 row (" in imported.output
    assert "1 new person, 1 new subscription" in imported.output
    stats = CliRunner().invoke(cli, [*base, "subscribers", "stats"], env=env)
    assert "2 people," in stats.output  # one from add_subscribers, one imported
    assert "1 person," not in stats.output


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def test_the_readmes_first_command_installs_the_tool_only():
    first = code_blocks(README)[0].strip().splitlines()[0]
    assert first.startswith("pip install -e . ")
    assert "[test]" not in first


def test_the_readmes_test_command_does_the_set_up_and_is_what_ci_runs():
    tests = code_blocks(README)[1].strip().splitlines()[0]  # the README's second command
    assert tests == "tools/test"
    script = (ROOT / "tools" / "test").read_text(encoding="utf-8")
    assert "tools/debian-packages" in script  # the one list of Debian packages
    assert "pip install -q -e '.[test]'" in script and 'exec "$PYTHON" -m pytest "$@"' in script
    assert os.access(ROOT / "tools" / "test", os.X_OK)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(tests)}( |$)", ci, re.M), "CI does not run the README's line"
    assert "apt-get" not in ci  # the packages are installed by tools/test alone


def test_the_test_script_says_what_to_install_when_it_cannot_itself(tmp_path):
    """Without root or sudo, a missing package is named with the exact command to run."""
    import shutil
    import subprocess

    if not shutil.which("dpkg-query"):
        pytest.skip("not a Debian/Ubuntu machine")
    site = tmp_path / "checkout"
    (site / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "test", site / "tools" / "test")
    (site / "tools" / "debian-packages").write_text("no-such-package-xyz  # a test\n")
    bin_dir = tmp_path / "bin"  # id says "not root"; no sudo on this PATH
    bin_dir.mkdir()
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    (bin_dir / "id").chmod(0o755)
    for tool in ("bash", "sed", "tr", "grep", "dpkg-query", "dirname"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = subprocess.run(
        [str(site / "tools" / "test")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no-such-package-xyz" in result.stderr
    expected = "apt-get update && apt-get install -y --no-install-recommends no-such-package-xyz"
    assert expected in result.stderr


def test_the_readme_gives_the_preview_address():
    assert "http://127.0.0.1:8001/preview/" in README
    assert "http://127.0.0.1:8001:" not in README
