"""Where things stand in an issue's files (`path:line`), and the checks on links and images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import IssueError
from .images import image_size

URL_SCHEMES = ("https://", "http://", "mailto:", "tel:")


@dataclass(frozen=True)
class Image:
    """An image file the issue uses; `name` is its file name under build/images/."""

    name: str
    path: Path
    width: int
    height: int


def where(path: Path, line: int) -> str:
    """`path:line` as messages print it (relative to the current folder when possible)."""
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = path
    return f"{shown}:{line}"


def first_text_line(body: str, body_line: int) -> int:
    """File line of the first non-blank line of a body that starts at `body_line`."""
    for offset, line in enumerate(body.split("\n")):
        if line.strip():
            return body_line + offset
    return body_line


def check_url(value: object, path: Path, line: int, key: str) -> str:
    """An absolute link (http, https, mailto, tel) or an IssueError saying how to fix it."""
    url = str(value or "").strip()
    if not url.lower().startswith(URL_SCHEMES):
        raise IssueError(
            f"{where(path, line)}: {key} {url!r} is not an absolute link; emails need full "
            "addresses such as https://www.example.se/page or mailto:name@example.se"
        )
    if any(ch.isspace() for ch in url):
        raise IssueError(f"{where(path, line)}: {key} {url!r} contains spaces; encode them as %20")
    return url


class ImageSet:
    """Collects the images an issue uses; same file name twice with other bytes is an error."""

    def __init__(self) -> None:
        self.images: dict[str, Image] = {}

    def add(self, base: Path, value: object, path: Path, line: int, key: str) -> Image:
        ref = str(value or "").strip()
        if not ref or ref.startswith(("/", "\\")) or ".." in Path(ref).parts or "://" in ref:
            raise IssueError(
                f"{where(path, line)}: {key} {ref!r}: give a file in the images folder, "
                "e.g. images/hero.jpg"
            )
        file = base / ref
        if not file.is_file():
            raise IssueError(
                f"{where(path, line)}: {key}: image {ref} not found ({file}); add the file "
                "or correct the name"
            )
        width, height = image_size(file, where(path, line))
        image = Image(file.name, file, width, height)
        known = self.images.get(file.name)
        if known and known.path.read_bytes() != file.read_bytes():
            raise IssueError(
                f"{where(path, line)}: two different images are named {file.name} "
                f"({known.path} and {file}); rename one"
            )
        self.images.setdefault(file.name, image)
        return image
