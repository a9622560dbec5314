"""Every command answers --help, and the README documents every command by its full name."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, path))
    return paths


COMMANDS = _command_paths(cli)


def test_the_tool_has_the_commands_the_issues_name():
    names = {" ".join(path) for path in COMMANDS}
    for required in ("build", "new", "preview", "send", "serve", "check", "subscribers import"):
        assert required in names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path))
def test_every_command_explains_itself(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {' '.join(path)}" in result.output or f"{' '.join(path)} [" in result.output
    description = result.output.split("\n\n")[1].strip()
    assert len(description) > 20, f"{' '.join(path)} --help has no description"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path))
def test_the_readme_shows_every_command(path):
    assert f"newsletter {' '.join(path)}" in README.read_text(encoding="utf-8")
