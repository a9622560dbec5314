"""Pixel size of PNG, JPEG and GIF files read from their headers (no imaging library needed).

A phone photo is often stored sideways with an EXIF note saying how to turn it. Browsers,
Apple Mail and Gmail obey the note; Outlook on Windows does not. The size given here is the
size as shown (turned), and `jpeg_orientation` lets `check` tell the editor to save it upright.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..errors import IssueError

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def jpeg_orientation(data: bytes) -> int:
    """The EXIF Orientation (1 = upright; 5-8 = turned a quarter) of JPEG bytes, 1 if none."""
    pos = 2
    while data.startswith(b"\xff\xd8") and pos + 4 < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\0\0":
            return _tiff_orientation(data[pos + 10 : pos + 2 + length])
        if marker in _JPEG_SOF or marker == 0xDA:  # image data: no EXIF before it
            break
        pos += 2 + length
    return 1


def _tiff_orientation(tiff: bytes) -> int:
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 1
    ifd = struct.unpack(order + "I", tiff[4:8])[0]
    if ifd + 2 > len(tiff):
        return 1
    count = struct.unpack(order + "H", tiff[ifd : ifd + 2])[0]
    for index in range(count):
        entry = tiff[ifd + 2 + 12 * index : ifd + 14 + 12 * index]
        if len(entry) == 12 and struct.unpack(order + "H", entry[:2])[0] == 0x0112:
            value = struct.unpack(order + "H", entry[8:10])[0]
            return value if 1 <= value <= 8 else 1
    return 1


def image_size(path: Path, where: str) -> tuple[int, int]:
    """(width, height) in pixels as shown; an IssueError for formats email clients do not all
    show."""
    data = path.read_bytes()
    size = None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        size = struct.unpack(">II", data[16:24])
    elif data.startswith(b"\xff\xd8"):
        size = _jpeg_size(data)
        if size and jpeg_orientation(data) >= 5:
            size = (size[1], size[0])
    elif data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        size = struct.unpack("<HH", data[6:10])
    if not size or not all(size):
        raise IssueError(
            f"{where}: {path.name} is not a readable PNG, JPEG or GIF image; export it in one "
            "of those formats (email programs do not all show WebP or SVG)"
        )
    return int(size[0]), int(size[1])
