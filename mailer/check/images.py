"""Image checks: alt text, Outlook-safe widths, https sources, formats, weight and height."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..compose.images import image_size, jpeg_orientation
from ..compose.issue import read_issue
from ..compose.metadata import personal_metadata
from ..errors import IssueError
from .context import CheckContext
from .report import Finding, Report

MAX_IMAGE_BYTES = 1_000 * 1024
MAX_IMAGE_HEIGHT = 1_700
LOOPBACK_HOSTS = ("localhost", "::1")


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def check_images(context: CheckContext, report: Report) -> None:
    local_base = is_loopback(context.settings.base_url)
    for svg in context.root.iter("svg"):
        location, line = context.locator.locate(svg)
        report.add(
            Finding(
                "error",
                "images",
                "svg-inline",
                "inline <svg>: Gmail and Outlook do not show it",
                "use a PNG or JPEG image instead",
                location,
                line,
            )
        )
    for img in context.root.iter("img"):
        _check_image(context, report, img, local_base)


def _check_image(context: CheckContext, report: Report, img, local_base: bool) -> None:
    src = (img.get("src") or "").strip()
    file_name = unquote(Path(urlsplit(src).path).name) if src else ""
    location, line = context.locator.locate(img, needles=(file_name,))

    def add(severity: str, code: str, message: str, advice: str) -> None:
        report.add(Finding(severity, "images", code, message, advice, location, line))

    label = file_name or "an image"
    if img.get("alt") is None:
        add(
            "error",
            "alt-missing",
            f"{label} has no alt text: screen readers read the file name, and blocked "
            "images leave a blank",
            "describe the image: ![what it shows](images/file.jpg); use empty alt only for "
            "decoration",
        )
    width = (img.get("width") or "").strip()
    if not width:
        add(
            "warning",
            "width-missing",
            f"{label} has no width attribute: Outlook on Windows shows it at full size",
            'the email template should give every image a unitless width (e.g. width="600")',
        )
    elif not width.isdigit():
        add(
            "error",
            "width-unit",
            f'{label} has width="{width}": Outlook needs a plain number of pixels',
            'use a unitless width such as width="600" (no px, no %)',
        )
    if not src:
        add("error", "src-missing", "an image has no src", "give the image a file")
        return
    scheme = urlsplit(src).scheme.lower()
    if src.lower().startswith("data:image/svg") or file_name.lower().endswith(".svg"):
        add(
            "error",
            "svg",
            f"{label} is an SVG: Gmail and Outlook do not show SVG images",
            "export it as PNG (or JPEG for photos)",
        )
    if scheme == "data":
        add(
            "warning",
            "data-uri",
            "an image is embedded as a data: URI: Gmail and Outlook.com do not show it",
            "put the image file in the issue's images/ folder",
        )
        return
    if scheme == "http":
        if is_loopback(src):
            add(
                "warning" if local_base else "error",
                "http-loopback",
                f"{label} loads from {urlsplit(src).netloc}, which recipients cannot reach",
                "set NEWSLETTER_BASE_URL to the public https address and rebuild before sending",
            )
        else:
            add(
                "error",
                "http",
                f"{label} loads over plain http: many clients block it or warn",
                "use an https address for the image",
            )
    elif scheme != "https":
        add(
            "error",
            "src-relative",
            f"{label} has src={src!r}, which does not load in an email",
            "images need absolute https addresses; put the file in the issue's images/ folder",
        )
        return
    _check_image_file(context, src, add)


def _check_image_file(context: CheckContext, src: str, add) -> None:
    """For images served from this issue's build/images/, check the file itself."""
    slug = str(context.meta.get("slug") or context.issue_dir.name)
    path = urlsplit(src).path
    marker = f"/archive/{slug}/images/"
    if marker not in path:
        return
    name = unquote(path.split(marker, 1)[1])
    image_path = context.build_dir / "images" / name
    if "/" in name or not image_path.is_file():
        add(
            "error",
            "file-missing",
            f"{name} is referenced but not in {context.build_dir / 'images'}",
            "check the file name in the section and that the file is in the issue's images/ "
            "folder, then rebuild",
        )
        return
    size = image_path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        add(
            "warning",
            "image-heavy",
            f"{name} is {size / 1024:.0f} KB: slow on mobile data",
            "resize it to at most twice its shown width and compress it (under 1,000 KB, "
            "ideally under 200 KB)",
        )
    try:
        _width, height = image_size(image_path, name)
    except IssueError:
        add("error", "image-unreadable", f"{name} is not a readable image", "re-export the file")
        return
    if jpeg_orientation(image_path.read_bytes()) != 1:
        add(
            "warning",
            "image-rotated",
            f"{name} is stored turned, with a note (EXIF orientation) that Outlook on Windows "
            "ignores: it shows there on its side",
            "open the photo in an image editor, save it upright (with the orientation reset), "
            "then rebuild",
        )
    carried = _source_metadata(context, name)
    if carried:
        add(
            "warning",
            "image-metadata",
            f"{name}: the source file carries {', '.join(carried)}; the build strips it from "
            "the published copy (email and archive), but your own copy still holds it",
            "nothing to do for this issue; remove it from the source too (an image editor's "
            "'export without metadata') before sharing the file elsewhere",
        )
    if height > MAX_IMAGE_HEIGHT:
        add(
            "warning",
            "image-tall",
            f"{name} is {height} px tall: some clients crop or scale down very tall images",
            f"crop it or split it into parts under {MAX_IMAGE_HEIGHT} px",
        )


def _source_metadata(context: CheckContext, name: str) -> list[str]:
    """Location or personal metadata in the source of `name` (the build's copy has none)."""
    try:
        image = read_issue(context.issue_dir).images.get(name)
    except IssueError:
        return []
    if image is None or not image.path.is_file():
        return []
    notes = personal_metadata(image.path.read_bytes())
    return [note for note in notes if note != "EXIF"]  # orientation alone is no one's data
