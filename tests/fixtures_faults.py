"""A small disk for fault tests: a tmpfs the test can fill to the last byte and free again."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

DISK_SIZE = "8m"


class SmallDisk:
    """A tmpfs mounted at `path`; `fill()` takes every free byte, `free()` gives them back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self, leave: int = 0) -> None:
        """Write until the disk refuses (ENOSPC), then give back `leave` bytes; a bounded
        loop, the disk is a few MB."""
        chunk = b"\0" * 65536
        with open(self.filler, "ab", buffering=0) as out:
            for _ in range(100_000):
                try:
                    out.write(chunk)
                except OSError:
                    break
            for _ in range(100_000):  # the last partial block
                try:
                    out.write(b"\0" * 512)
                except OSError:
                    break
            if leave:
                out.truncate(max(0, out.tell() - leave))

    def free(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filler.unlink()


@pytest.fixture
def small_disk(tmp_path):
    """A fresh 8 MB tmpfs (needs root: `mount -t tmpfs`); skipped with the reason otherwise."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a tmpfs mount, which needs root")
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
