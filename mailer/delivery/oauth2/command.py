"""Any provider: a command whose output is the access token (as msmtp's passwordeval works)."""

from __future__ import annotations

import subprocess
import time

from ...config import Settings
from .base import DOCS, TokenSource, one_line

COMMAND_TOKEN_SECONDS = 300.0  # a command's token is reused this long (its expiry is unknown)
COMMAND_TIMEOUT = 60.0


class CommandSource(TokenSource):
    """A command (run by the shell) whose standard output is the access token."""

    provider = "Token command"

    def __init__(self, settings: Settings, side: str, user: str, name: str, command: str) -> None:
        super().__init__(settings, side, user)
        if not command:
            raise self.fail(f"{name} not set; see {DOCS}")
        self.name, self.command = name, command
        self.cached: tuple[str, float] | None = None

    def _token(self, fresh: bool) -> str:
        now = time.monotonic()
        if not fresh and self.cached and now - self.cached[1] < COMMAND_TOKEN_SECONDS:
            return self.cached[0]
        try:
            done = subprocess.run(  # noqa: S602 - the person's own command line, as msmtp runs it
                self.command,
                shell=True,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise self.fail(f"{self.name} did not finish within {COMMAND_TIMEOUT:g} s") from None
        except OSError as exc:
            raise self.fail(f"{self.name} cannot be run: {exc}") from None
        token = done.stdout.strip()
        if done.returncode != 0:
            said = one_line(done.stderr) or "no message"
            raise self.fail(f"{self.name} exited with status {done.returncode}: {said}")
        if not token or any(ch.isspace() for ch in token):
            raise self.fail(f"{self.name} must print the access token alone on one line")
        self.cached = (token, now)
        return token
