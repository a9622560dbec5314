"""Pixel size of PNG, JPEG and GIF files read from their headers (no imaging library needed)."""

from __future__ import annotations

import struct
from pathlib import Path

from .errors import IssueError

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


def image_size(path: Path, where: str) -> tuple[int, int]:
    """(width, height) in pixels; an IssueError for formats email clients do not all show."""
    data = path.read_bytes()
    size = None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        size = struct.unpack(">II", data[16:24])
    elif data.startswith(b"\xff\xd8"):
        size = _jpeg_size(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        size = struct.unpack("<HH", data[6:10])
    if not size or not all(size):
        raise IssueError(
            f"{where}: {path.name} is not a readable PNG, JPEG or GIF image; export it in one "
            "of those formats (email programs do not all show WebP or SVG)"
        )
    return int(size[0]), int(size[1])
