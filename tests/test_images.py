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
