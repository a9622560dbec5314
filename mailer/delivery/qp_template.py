"""Quoted-printable bodies built once per issue and filled per recipient in microseconds.

Encoding a 40 KB part with the email package costs milliseconds per message; here the fixed
text between the `%%name%%` markers is encoded once (binascii, in C) and only the values are
encoded per recipient.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from html import escape

from ..compose.personalize import MARKER

CRLF = b"\r\n"


def quoted_printable(text: str) -> bytes:
    """UTF-8, quoted-printable, CRLF line ends, lines of at most 76 characters."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", CRLF)


class EncodedTemplate:
    """A built part split at its `%%name%%` markers, the fixed text already quoted-printable.

    Per recipient only the values are encoded; pieces are joined with soft line breaks
    (`=` CRLF), which decode to nothing, so every line stays within 76 characters and the
    decoded part equals `Template.fill(values)` exactly (tests check this). Marker syntax and
    fill rules (HTML escaping, `%%name|fallback%%`) are personalize's; `source` is its public
    `Template.source`.
    """

    def __init__(self, source: str, *, escape_html: bool) -> None:
        self.escape_html = escape_html
        self.pieces: list[bytes | tuple[str, str | None]] = []
        position = 0
        for match in MARKER.finditer(source):
            self._fixed(source[position : match.start()])
            self.pieces.append((match.group(1), match.group(2)))
            position = match.end()
        self._fixed(source[position:])

    def _fixed(self, text: str) -> None:
        if text:
            self.pieces.append(_soft_join(quoted_printable(text)))

    def render(self, values: Mapping[str, str]) -> bytes:
        out: list[bytes] = []
        cache: dict[str, bytes] = {}
        for piece in self.pieces:
            if isinstance(piece, bytes):
                out.append(piece)
                continue
            name, fallback = piece
            encoded = cache.get(name if fallback is None else f"{name}|{fallback}")
            if encoded is None:
                if name not in values and fallback is None:
                    raise KeyError(f"no value for placeholder {name!r}")
                raw = values.get(name) or ""
                value = (escape(raw) if self.escape_html else raw) or (fallback or "")
                encoded = _soft_join(quoted_printable(value)) if value else b""
                cache[name if fallback is None else f"{name}|{fallback}"] = encoded
            out.append(encoded)
        data = b"".join(out)
        if data.endswith(b"=\r\n"):
            data = data[:-3]
        return data if data.endswith(CRLF) else data + CRLF


def _soft_join(encoded: bytes) -> bytes:
    """End an encoded piece so the next one starts on a new line: a soft break unless the
    piece already ends with a hard line break. A last line too long to take the `=` is split
    first (never inside an `=XX` escape)."""
    if encoded.endswith(CRLF) or not encoded:
        return encoded
    start = encoded.rfind(CRLF) + 2 if CRLF in encoded else 0
    last = encoded[start:]
    if len(last) >= 76:
        cut = 75
        while b"=" in last[cut - 2 : cut]:
            cut -= 1
        encoded = encoded[:start] + last[:cut] + b"=\r\n" + last[cut:]
    return encoded + b"=\r\n"
