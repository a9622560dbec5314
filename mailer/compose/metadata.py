"""Published images without the metadata a camera or editor wrote into them.

A phone photo carries where it was taken (EXIF GPS), the camera's serial number, the owner's
name, maker notes, XMP and IPTC records; copied into build/ byte for byte, the archive would
serve them to anyone. `strip_metadata` rewrites the file's container without touching the
pixels (no re-encoding, so the same source always gives the same bytes), keeping only what
rendering needs: the colour profile (JPEG APP2 ICC_PROFILE, Adobe APP14, PNG iCCP/sRGB/gAMA/
cHRM) and the orientation, as a minimal EXIF block holding nothing else, so a turned photo
shows the way `images.image_size` measures it. `personal_metadata` says what a source carries,
for `check`.
"""

from __future__ import annotations

import struct
import zlib

from ..errors import IssueError
from .images import jpeg_orientation

_JPEG_KEEP_APP = {0xE0: (b"JFIF\0", b"JFXX\0"), 0xE2: (b"ICC_PROFILE\0",), 0xEE: (b"Adobe",)}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # markers without a length
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
_GIF_KEEP_APP = (b"NETSCAPE2.0", b"ANIMEXTS1.0")  # looping, nothing about anyone


class _Unreadable(Exception):
    pass


def strip_metadata(data: bytes, name: str = "image") -> bytes:
    """`data` (a PNG, JPEG or GIF) without metadata beyond colour profile and orientation;
    other bytes unchanged. IssueError naming `name` when the file's structure is broken."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _strip_jpeg(data)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _strip_png(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _strip_gif(data)
    except (_Unreadable, struct.error, IndexError):
        raise IssueError(
            f"{name}: its file structure is damaged, so its metadata (such as where a photo "
            "was taken) cannot be removed; export it again from an image editor"
        ) from None
    return data


def personal_metadata(data: bytes) -> list[str]:
    """What of note a source image carries (GPS position, serial number, owner, XMP, IPTC...),
    in words for `check`; [] when nothing."""
    found = []
    if data.startswith(b"\xff\xd8"):
        for marker, body in _jpeg_segments(data):
            if marker == 0xE1 and body.startswith(b"Exif\0\0"):
                found += _exif_findings(body[6:])
            elif marker == 0xE1 and body.startswith(b"http://ns.adobe.com/"):
                found.append("XMP")
            elif marker == 0xED:
                found.append("IPTC/Photoshop data")
            elif marker == 0xFE:
                found.append("a comment")
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        kinds = {kind for kind, _ in _png_chunks(data)}
        if kinds & {b"tEXt", b"zTXt", b"iTXt"}:
            found.append("text notes (author, software, XMP)")
        if b"eXIf" in kinds:
            found.append("EXIF")
    return sorted(set(found))


# --- JPEG ------------------------------------------------------------------------------------


def _jpeg_segments(data: bytes):
    """(marker, body) of each segment before the first scan; stops quietly at damage."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xDA, 0xD9):
            return
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        yield marker, data[pos + 4 : pos + 2 + length]
        pos += 2 + length


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(b"\xff\xd8")
    orientation = jpeg_orientation(data)
    exif_written = False
    pos = 2
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise _Unreadable
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image: anything after it (a second picture) is dropped
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _JPEG_STANDALONE:
            out += data[pos : pos + 2]
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise _Unreadable
        body = data[pos + 4 : end]
        is_app = 0xE0 <= marker <= 0xEF
        keep = not is_app and marker != 0xFE  # COM: a comment
        if is_app:
            keep = any(body.startswith(sig) for sig in _JPEG_KEEP_APP.get(marker, ()))
        if not exif_written and orientation != 1 and (not is_app or marker > 0xE1):
            out += _minimal_exif(orientation)  # where EXIF stood: after APP0, before APP2
            exif_written = True
        if keep:
            out += data[pos:end]
        pos = end
        if marker == 0xDA:  # a scan: its entropy-coded data runs to the next real marker
            pos = _scan_end(data, end)
            out += data[end:pos]


def _scan_end(data: bytes, pos: int) -> int:
    """The position of the marker that ends the entropy-coded data starting at `pos`."""
    while True:
        pos = data.index(b"\xff", pos)
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1
            continue
        return pos


def _minimal_exif(orientation: int) -> bytes:
    """An APP1 EXIF segment holding the orientation and nothing else."""
    tiff = b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


_EXIF_NOTES = {
    0x8825: "GPS position",
    0x013B: "artist/owner name",
    0x8298: "copyright holder",
    0x927C: "maker notes",
    0xA431: "camera serial number",
    0xA430: "camera owner name",
    0xC62F: "camera serial number",
    0x9286: "user comment",
    0x010E: "image description",
    0xA420: "unique image id",
}


def _exif_findings(tiff: bytes) -> list[str]:
    """Notes about IFD0 and the EXIF sub-IFD of a TIFF block (a bounded walk: two IFDs)."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return ["EXIF"]
    found = ["EXIF"]
    offsets = [struct.unpack(order + "I", tiff[4:8])[0]]
    for _ in range(2):
        if not offsets:
            break
        ifd = offsets.pop()
        if ifd + 2 > len(tiff):
            break
        count = struct.unpack(order + "H", tiff[ifd : ifd + 2])[0]
        for index in range(min(count, 500)):
            entry = tiff[ifd + 2 + 12 * index : ifd + 14 + 12 * index]
            if len(entry) < 12:
                break
            tag = struct.unpack(order + "H", entry[:2])[0]
            if tag in _EXIF_NOTES:
                found.append(_EXIF_NOTES[tag])
            if tag == 0x8769:  # the EXIF sub-IFD (serial, owner, maker notes live there)
                offsets.append(struct.unpack(order + "I", entry[8:12])[0])
    return found


# --- PNG -------------------------------------------------------------------------------------


def _png_chunks(data: bytes):
    pos = 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise _Unreadable
        yield kind, data[pos:end]
        pos = end
        if kind == b"IEND":
            return


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    for kind, chunk in _png_chunks(data):
        if kind == b"eXIf":
            orientation = _tiff_orientation_or_1(chunk[8:-4])
            if orientation != 1:
                tiff = _minimal_exif(orientation)[10:]  # the TIFF block without APP1 framing
                out += struct.pack(">I", len(tiff)) + b"eXIf" + tiff
                out += struct.pack(">I", zlib.crc32(b"eXIf" + tiff))
            continue
        if kind not in _PNG_DROP:
            out += chunk
    return bytes(out)


def _tiff_orientation_or_1(tiff: bytes) -> int:
    fake_jpeg = b"\xff\xd8\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\0\0" + tiff
    return jpeg_orientation(fake_jpeg)


# --- GIF -------------------------------------------------------------------------------------


def _sub_blocks_end(data: bytes, pos: int) -> int:
    while True:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos


def _strip_gif(data: bytes) -> bytes:
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    out = bytearray(data[:pos])
    while True:
        introducer = data[pos]
        if introducer == 0x3B:  # trailer: anything after it is dropped
            out += b"\x3b"
            return bytes(out)
        if introducer == 0x2C:  # an image: descriptor, local colour table, LZW data
            local = data[pos + 9]
            start = pos
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            pos = _sub_blocks_end(data, pos + 1)
            out += data[start:pos]
        elif introducer == 0x21:
            label = data[pos + 1]
            start = pos
            end = _sub_blocks_end(data, pos + 2)
            keep = label in (0xF9, 0x01)  # frame timing and transparency; plain text
            if label == 0xFF:
                keep = data[pos + 3 : pos + 14] in _GIF_KEEP_APP
            if keep:
                out += data[start:end]
            pos = end
        else:
            raise _Unreadable
