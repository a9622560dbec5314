"""Fixtures for the check tests: small built issues made from tests/check_fixtures/.

`tests/check_fixtures/good/` is a hand-written issue (sources + `built/`) that passes every
check. A variant is that issue with a few exact text replacements that trigger one check;
the replacements must match, so a variant can never silently turn into the good issue.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from PIL import Image

CHECK_FIXTURES = Path(__file__).resolve().parent / "check_fixtures"
GOOD_SLUG = "2026-07"
# name -> (width, height), or the file's bytes; written with Pillow so no binaries live in git.
GOOD_IMAGES = {"logo.png": (200, 60), "vinnare.jpg": (1080, 540)}

Edit = tuple[str, str, str]  # (file under the issue folder, old text, new text)


def make_built_issue(
    root: Path,
    edits: Iterable[Edit] = (),
    *,
    images: dict[str, tuple[int, int] | bytes] | None = None,
    fixture: str = "good",
    slug: str = GOOD_SLUG,
) -> Path:
    """Copy a fixture issue into `root/slug` with its build in `build/`; apply `edits`."""
    source = CHECK_FIXTURES / fixture
    issue_dir = root / slug
    shutil.copytree(source, issue_dir, ignore=shutil.ignore_patterns("built"))
    shutil.copytree(source / "built", issue_dir / "build")
    image_dir = issue_dir / "build" / "images"
    image_dir.mkdir(exist_ok=True)
    for name, spec in (GOOD_IMAGES if images is None else images).items():
        if isinstance(spec, bytes):
            (image_dir / name).write_bytes(spec)
            continue
        kind = "JPEG" if name.lower().endswith((".jpg", ".jpeg")) else "PNG"
        Image.new("RGB", spec, (40, 110, 120)).save(image_dir / name, kind)
    for relative, old, new in edits:
        path = issue_dir / relative
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise AssertionError(f"fixture edit does not match in {relative}: {old!r}")
        path.write_text(text.replace(old, new), encoding="utf-8")
    return issue_dir


@pytest.fixture
def built_issue(tmp_path) -> Callable[..., Path]:
    """Factory: `built_issue(edits, images=..., slug=...)` -> a built issue folder."""
    counter = iter(range(1000))

    def make(edits: Iterable[Edit] = (), **kwargs) -> Path:
        return make_built_issue(tmp_path / f"issue{next(counter)}", edits, **kwargs)

    return make


def caniemail_tarball(path: Path, data: dict, version: str = "9.9.9", licence: bool = True) -> Path:
    """A caniemail npm tarball as `npm pack` lays it out, for `refresh-caniemail --tarball`."""
    from mailer.check.caniemail import DATA_FILE

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
