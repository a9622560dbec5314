"""The caniemail.com support data: the bundled copy, a fresher one refreshed from npm, loading.

The tool ships a copy inside the package. `newsletter refresh-caniemail` never writes there (an
installed package may be read-only and is replaced on upgrade): it writes to the person's data
folder (`user_data_dir()/caniemail`), and `check` reads that copy while it is at least as new
as the bundled one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from functools import lru_cache
from pathlib import Path

from ..config import bundled_path, user_data_dir
from ..errors import MailerError

BUNDLED_DIR = bundled_path("data/caniemail")
DATA_FILE = "caniemail.json"
PACKAGE = "caniemail"
REGISTRY = "https://registry.npmjs.org"
DOWNLOAD_TIMEOUT = 60


class CaniemailError(MailerError):
    """The support data is missing, unreadable, or the refresh could not fetch it."""


def refreshed_dir() -> Path:
    """Where `refresh-caniemail` writes by default: the person's data folder, not the package."""
    return user_data_dir() / "caniemail"


def data_dir() -> Path:
    """The copy `check` reads: the refreshed one unless the bundled one is newer (an upgrade)."""
    refreshed = refreshed_dir()
    if not (refreshed / DATA_FILE).is_file():
        return BUNDLED_DIR
    try:
        newer = _updated(refreshed / DATA_FILE) >= _updated(BUNDLED_DIR / DATA_FILE)
    except CaniemailError:
        newer = True  # a broken refreshed copy is reported by load_features, not hidden
    return refreshed if newer else BUNDLED_DIR


def _updated(path: Path) -> str:
    """caniemail's `last_update_date` ("2025-09-09 18:08:06 +0000"; sorts as text)."""
    return str(_document(path).get("last_update_date") or "")


def _document(path: Path) -> dict:
    try:
        stat = Path(path).stat()
    except FileNotFoundError:
        raise CaniemailError(
            f"{path} is missing: run `newsletter refresh-caniemail` to fetch it"
        ) from None
    return _read_document(Path(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_document(path: Path, _mtime_ns: int, _size: int) -> dict:
    """Parsed and validated once per file version (the key holds its time and size)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CaniemailError(
            f"{path}: cannot read the caniemail data ({exc}); run `newsletter refresh-caniemail`"
        ) from exc
    _validate(document, str(path))
    return document


def load_features(path: Path | None = None) -> dict[str, dict]:
    """Features by slug (`css-max-width`, `html-svg`, ...) from caniemail.json (default: the
    copy `data_dir()` picks)."""
    document = _document(Path(path) if path else data_dir() / DATA_FILE)
    return {feature["slug"]: feature for feature in document["data"]}


def _validate(document: object, source: str) -> None:
    if not (
        isinstance(document, dict)
        and isinstance(document.get("data"), list)
        and all(isinstance(f, dict) and "slug" in f and "stats" in f for f in document["data"])
        and document["data"]
    ):
        raise CaniemailError(f"{source}: not caniemail support data (no 'data' list of features)")


def refresh_caniemail(
    version: str = "latest", *, tarball: Path | None = None, dest: Path | None = None
) -> str:
    """Write the data of the npm package `caniemail@version` into `dest` (default:
    `refreshed_dir()`; a developer gives the checkout's data/caniemail to update the bundled copy).

    Uses `npm pack` when npm is installed, else downloads the tarball from the npm registry;
    `tarball` takes an already downloaded .tgz instead. Nothing is replaced unless the new
    data parses. Returns the package version installed.
    """
    dest = Path(dest) if dest else refreshed_dir()
    raw = tarball.read_bytes() if tarball else _download(version)
    source = str(tarball) if tarball else f"npm package {PACKAGE}@{version}"
    files = _read_package(raw, source)
    package = json.loads(files["package.json"])
    document = json.loads(files[DATA_FILE])
    _validate(document, source)
    dest.mkdir(parents=True, exist_ok=True)
    readme = _readme(package, document, hashlib.sha256(files[DATA_FILE]).hexdigest())
    for name, content in ((DATA_FILE, files[DATA_FILE]), ("LICENSE", files["LICENSE"])):
        _write_atomic(dest / name, content)
    _write_atomic(dest / "README.md", readme.encode("utf-8"))
    return str(package.get("version", version))


def _download(version: str) -> bytes:
    npm = shutil.which("npm")
    with tempfile.TemporaryDirectory() as tmp:
        if npm:
            try:
                subprocess.run(
                    [npm, "pack", f"{PACKAGE}@{version}", "--silent"],
                    cwd=tmp,
                    check=True,
                    capture_output=True,
                    timeout=DOWNLOAD_TIMEOUT * 2,
                )
            except (subprocess.SubprocessError, OSError) as exc:
                raise CaniemailError(f"npm pack {PACKAGE}@{version} failed: {exc}") from exc
            packed = sorted(Path(tmp).glob(f"{PACKAGE}-*.tgz"))
            if not packed:
                raise CaniemailError(f"npm pack {PACKAGE}@{version} produced no tarball")
            return packed[-1].read_bytes()
    try:
        meta_url = f"{REGISTRY}/{PACKAGE}/{version}"
        with urllib.request.urlopen(meta_url, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310
            tarball_url = json.load(response)["dist"]["tarball"]
        if not tarball_url.startswith(REGISTRY + "/"):
            raise CaniemailError(f"{meta_url}: unexpected tarball address {tarball_url}")
        with urllib.request.urlopen(tarball_url, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310
            return response.read()
    except (OSError, KeyError, ValueError) as exc:
        raise CaniemailError(f"cannot download {PACKAGE}@{version} from {REGISTRY}: {exc}") from exc


def _read_package(raw: bytes, source: str) -> dict[str, bytes]:
    """The three files we keep, read from the tarball without extracting anything to disk."""
    wanted = {"package/package.json": "package.json", f"package/data/{DATA_FILE}": DATA_FILE}
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as archive:
            for member in archive.getmembers():
                if not member.isfile():
                    continue
                name = wanted.get(member.name)
                licence = member.name.lower() in ("package/license", "package/license.md")
                if name is None and licence:
                    name = "LICENSE"
                if name:
                    files[name] = archive.extractfile(member).read()
    except (tarfile.TarError, OSError) as exc:
        raise CaniemailError(f"{source}: not a readable npm tarball ({exc})") from exc
    missing = {"package.json", DATA_FILE, "LICENSE"} - set(files)
    if missing:
        raise CaniemailError(f"{source}: the package lacks {', '.join(sorted(missing))}")
    return files


def _readme(package: dict, document: dict, digest: str) -> str:
    version = package.get("version", "?")
    return (
        "# caniemail support data\n\n"
        "A copy of the HTML and CSS support data of [caniemail.com](https://www.caniemail.com), "
        "used by `newsletter check` to warn about features that major email clients lack.\n\n"
        f"- Source: the npm package `{PACKAGE}` version {version} "
        f"({package.get('repository', 'shellscape/caniemail')}), file `data/{DATA_FILE}`\n"
        f"- Licence: {package.get('license', 'MIT')} (see LICENSE, copied from the package)\n"
        f"- Data last updated upstream: {document.get('last_update_date', 'unknown')}\n"
        f"- SHA-256 of {DATA_FILE}: {digest}\n\n"
        "Refresh with `newsletter refresh-caniemail` (latest version) or "
        "`newsletter refresh-caniemail --version X.Y.Z`; it uses `npm pack` when npm is "
        "installed, else the npm registry over HTTPS.\n"
    )


def _write_atomic(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
