"""Image sizes from file headers, and the EXIF note that phones use to turn a photo."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from mailer.compose.images import image_size, jpeg_orientation
from mailer.errors import IssueError


def jpeg(size: tuple[int, int], orientation: int | None = None) -> bytes:
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    Image.new("RGB", size, (200, 80, 40)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def big_endian_exif_jpeg(orientation: int) -> bytes:
    """Pillow writes little-endian EXIF; some cameras write Motorola order ("MM")."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"MM" + struct.pack(">HI", 42, 8) + struct.pack(">H", 1) + entry + b"\0\0\0\0"
    app1 = b"Exif\0\0" + tiff
    plain = jpeg((300, 200))
    return plain[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + plain[2:]


@pytest.mark.parametrize(
    ("orientation", "shown"),
    [(None, (300, 200)), (1, (300, 200)), (3, (300, 200)), (6, (200, 300)), (8, (200, 300))],
)
def test_a_turned_phone_photo_has_the_size_it_is_shown_at(tmp_path, orientation, shown):
    path = tmp_path / "foto.jpg"
    path.write_bytes(jpeg((300, 200), orientation))
    assert jpeg_orientation(path.read_bytes()) == (orientation or 1)
    assert image_size(path, "01-text.md:3") == shown


def test_motorola_byte_order_is_read_too(tmp_path):
    path = tmp_path / "kamera.jpg"
    path.write_bytes(big_endian_exif_jpeg(6))
    assert jpeg_orientation(path.read_bytes()) == 6
    assert image_size(path, "x") == (200, 300)


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff\xe1\x00\x08Exif\0\0", b"GIF89a", b"<svg/>"])
def test_truncated_or_unknown_files_are_a_clear_error_not_a_crash(tmp_path, data):
    path = tmp_path / "trasig.jpg"
    path.write_bytes(data)
    assert jpeg_orientation(data) == 1
    with pytest.raises(IssueError, match="not a readable PNG, JPEG or GIF"):
        image_size(path, "01-text.md:3")


def test_the_tool_itself_needs_no_imaging_library():
    """Pillow is a test dependency only: `pip install .` must give a working `check`."""
    import subprocess
    import sys

    code = (
        "import sys, cli, mailer.compose.build, mailer.check, mailer.delivery.send, mailer.web; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'playwright')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- metadata in published copies ----------------------------------------------------------

OWNER = "Anna Ägare-Lindqvist"
SERIAL = "SN-4711-0815"


def phone_photo(orientation: int = 6) -> bytes:
    """A JPEG as a phone saves it: turned (EXIF orientation), an sRGB profile, the position it
    was taken at, the camera's serial number and its owner's name, a maker note and XMP."""
    from PIL import ImageCms

    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = OWNER  # Artist
    exif[0x010F] = "Fonemaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (59.0, 16.0, 12.5), 3: "E", 4: (15.0, 13.0, 4.2)})
    details = exif.get_ifd(0x8769)
    details.update({0xA430: OWNER, 0xA431: SERIAL, 0x927C: b"maker-note " + SERIAL.encode()})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 80, 40)).save(
        buffer, "JPEG", exif=exif.tobytes(), icc_profile=icc, comment=OWNER.encode()
    )
    data = buffer.getvalue()
    xmp = (
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><dc:creator>" + OWNER.encode() + b"</x:xmpmeta>"
    )
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp + data[2:]


def test_a_published_photo_has_no_position_serial_or_owner_but_keeps_orientation_and_colour(
    issue_factory, tmp_path
):
    from mailer.check import check_content
    from mailer.compose.build import build_issue
    from tests.fixtures_compose import SECTIONS, compose_settings

    sections = {k: v.replace("images/hero.png", "images/foto.jpg") for k, v in SECTIONS.items()}
    issue = issue_factory(sections=sections, images={})
    source = phone_photo()
    (issue / "images" / "foto.jpg").write_bytes(source)
    settings = compose_settings()
    build_issue(issue, settings)
    published = (issue / "build" / "images" / "foto.jpg").read_bytes()

    for secret in (OWNER.encode(), SERIAL.encode(), b"Fonemaker", b"ns.adobe.com"):
        assert secret in source
        assert secret not in published
    shown = Image.open(io.BytesIO(published))
    exif = shown.getexif()
    assert dict(exif) == {0x0112: 6}  # the orientation, nothing else
    assert exif.get_ifd(0x8825) == {} and exif.get_ifd(0x8769) == {}
    original = Image.open(io.BytesIO(source))
    assert original.getexif().get_ifd(0x8825)[2] == (59.0, 16.0, 12.5)  # the source had it
    assert shown.info["icc_profile"] == original.info["icc_profile"]
    assert shown.tobytes() == original.tobytes()  # the same pixels: nothing re-encoded
    assert image_size(issue / "build" / "images" / "foto.jpg", "x") == (200, 320)  # turned

    build_issue(issue, settings)
    assert (issue / "build" / "images" / "foto.jpg").read_bytes() == published  # deterministic

    report = check_content(issue, settings, spam=False)
    (finding,) = [f for f in report.findings if f.code == "image-metadata"]
    assert finding.severity == "warning"
    assert "GPS position" in finding.message and "camera serial number" in finding.message
    assert "strips it from the published copy" in finding.message


@pytest.mark.parametrize("kind", ["PNG", "GIF"])
def test_text_notes_in_png_and_gif_are_not_published(kind):
    from PIL import PngImagePlugin

    from mailer.compose.metadata import personal_metadata, strip_metadata

    buffer = io.BytesIO()
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", OWNER)
        info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta>{SERIAL}</x:xmpmeta>")
        image.save(buffer, "PNG", pnginfo=info)
    else:
        image.save(buffer, "GIF", comment=f"{OWNER} {SERIAL}".encode())
    data = buffer.getvalue()
    assert SERIAL.encode() in data
    stripped = strip_metadata(data)
    assert SERIAL.encode() not in stripped and OWNER.encode() not in stripped
    assert Image.open(io.BytesIO(stripped)).convert("RGB").tobytes() == image.tobytes()
    assert strip_metadata(stripped) == stripped
    if kind == "PNG":
        assert personal_metadata(data) == ["text notes (author, software, XMP)"]
