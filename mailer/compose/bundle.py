"""A built issue as one archive (a bundle) with its SHA-256, so a laptop can hand it to the server.

`pack` makes the same bytes from the same build (sorted names, no times or owners), so the hash
names the content: a second upload of the same build is recognised as the same issue. `store`
is the server's side: it checks the size, the hash and every name (only plain files below the
issue's folder: no `..`, no absolute path, no link), unpacks into a work folder beside the
archive and swaps it into `newsletters/SLUG/build` only when all of it was good, so a refused
or cut-off bundle leaves the archive as it was. The received build carries `.bundle.sha256`;
`is_received` tells the send not to rebuild it (the server has no sources).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import IssueError
from .attachments import ATTACHMENTS_DIR
from .build import BUILD_DIR, _swap_into_place

MAX_BUNDLE_BYTES = 32 * 1024 * 1024  # an issue with its images; Gmail clips far below that
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MARK = ".bundle.sha256"
REQUIRED = ("meta.json", "email.html", "email.txt", "web.html")
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# attachments keep the names readers see ("Program för mötet.pdf"): any printable name
ATTACHMENT_PART = re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,199}")
MEDIA_TYPE = "application/x-tar"


class BundleError(IssueError):
    """A bundle was refused; the message says why and the archive is unchanged."""


@dataclass(frozen=True)
class Bundle:
    slug: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Stored:
    slug: str
    sha256: str
    changed: bool  # False: the archive already held exactly this bundle


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(build: Path) -> list[Path]:
    return sorted(
        path
        for path in build.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and not any(part.startswith(".") for part in path.relative_to(build).parts)
    )


def pack(issue_dir: Path) -> Bundle:
    """issue_dir/build as an uncompressed tar (images are compressed already) and its hash."""
    build = Path(issue_dir) / BUILD_DIR
    try:
        meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IssueError(
            f"{build / 'meta.json'}: not built; run 'newsletter build {issue_dir}'"
        ) from None
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _files(build):
            data = path.read_bytes()
            info = tarfile.TarInfo(path.relative_to(build).as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    data = out.getvalue()
    return Bundle(str(meta.get("slug") or Path(issue_dir).name), data, digest(data))


def is_received(issue_dir: Path) -> bool:
    """A build that came as a bundle (on the server): there are no sources to rebuild it from."""
    issue_dir = Path(issue_dir)
    return (issue_dir / BUILD_DIR / MARK).is_file() and not (issue_dir / "issue.md").exists()


def stored_hash(issue_dir: Path) -> str | None:
    try:
        return (Path(issue_dir) / BUILD_DIR / MARK).read_text(encoding="ascii").strip()
    except OSError:
        return None


def _check_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or ".." in parts:
        raise BundleError(f"bundle refused: {name!r} climbs out of the issue's folder")
    attachment = (
        len(parts) == 2 and parts[0] == ATTACHMENTS_DIR and ATTACHMENT_PART.fullmatch(parts[1])
    )
    if "\\" in name or len(parts) > 2 or not (attachment or all(PART.fullmatch(p) for p in parts)):
        raise BundleError(f"bundle refused: {name!r} is not a file of the issue's build folder")


def _members(data: bytes) -> list[tuple[str, bytes]]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            return _read(tar)
    except (tarfile.TarError, EOFError) as exc:
        raise BundleError(f"bundle refused: not a readable tar archive ({exc})") from None


def _read(tar: tarfile.TarFile) -> list[tuple[str, bytes]]:
    members = tar.getmembers()
    files, total = [], 0
    for member in members:
        _check_name(member.name)
        if not member.isfile():
            raise BundleError(f"bundle refused: {member.name!r} is a link or a device, not a file")
        total += member.size
        if total > MAX_UNPACKED_BYTES:
            raise BundleError(
                f"bundle refused: it unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB"
            )
        handle = tar.extractfile(member)
        files.append((member.name, handle.read() if handle else b""))
    names = {name for name, _ in files}
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise BundleError(f"bundle refused: it has no {', '.join(missing)}; build the issue first")
    return files


def store(
    data: bytes,
    sha256: str,
    newsletters_dir: Path,
    *,
    max_bytes: int = MAX_BUNDLE_BYTES,
    guard=None,
) -> Stored:
    """Check a bundle and make it `newsletters_dir/SLUG/build` (see the module docstring).
    `guard(slug, sha256)` runs before a different build replaces the stored one; it raises to
    keep the stored one (a send of it is running)."""
    if len(data) > max_bytes:
        raise BundleError(
            f"bundle refused: {len(data) / 2**20:.1f} MB is over the limit of "
            f"{max_bytes / 2**20:.0f} MB; make the images smaller"
        )
    actual = digest(data)
    if actual != (sha256 or "").strip().lower():
        raise BundleError(
            f"bundle refused: its SHA-256 is {actual}, not the {sha256 or '(none)'} it was sent "
            "with (cut off or changed on the way); send it again"
        )
    files = _members(data)
    try:
        meta = json.loads(dict(files)["meta.json"].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BundleError("bundle refused: meta.json is not JSON") from None
    slug = str(meta.get("slug") or "")
    if not SLUG.fullmatch(slug) or ".." in slug:
        raise BundleError(f"bundle refused: meta.json names the issue {slug!r}, not a plain slug")
    folder = Path(newsletters_dir) / slug
    if stored_hash(folder) == actual:
        return Stored(slug, actual, changed=False)
    if guard is not None:
        guard(slug, actual)
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".bundle-", dir=folder))
    try:
        for name, content in files:
            target = work / name
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(content)
        (work / MARK).write_text(actual + "\n", encoding="ascii")
        _swap_into_place(work, folder / BUILD_DIR)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Stored(slug, actual, changed=True)
