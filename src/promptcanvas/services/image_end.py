"""Where an image file ends, to refuse files with something appended (polyglots).

A PNG with a ZIP after its IEND chunk is both a valid image and a valid archive (a JAR, a
DOCX...); a JPEG with HTML after its EOI is an image to one program and a page to another.
Decoders ignore the extra bytes, so we find the end ourselves, from the format's own framing,
and refuse anything after it except padding (zero or 0xFF bytes, which some cameras write).
A file that also opens as a ZIP (its directory hidden inside the image) is refused too.
"""

from __future__ import annotations

import io
import zipfile

from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.services.metadata.carriers import PNG_SIGNATURE, png_chunks


def refuse_appended(data: bytes, image_format: str) -> None:
    """Raise UnsupportedMedia if bytes other than padding follow the image, or it is a ZIP."""
    end = image_end(data, image_format)
    if end is None:
        # The decoder got through it but its framing cannot be followed (stray bytes between
        # JPEG segments, say): where it ends, and so what follows it, is unknown.
        raise UnsupportedMedia(
            "the image's structure could not be followed to its end; re-save it and upload "
            "it again",
            {"field": "file"},
        )
    extra = data[end:]
    if extra.strip(b"\x00\xff"):
        raise UnsupportedMedia(
            f"the file has {len(extra):,} bytes after the end of the image (another file "
            "appended to it?); upload the image alone",
            {"field": "file", "trailing_bytes": len(extra)},
        )
    if _opens_as_zip(data):
        raise UnsupportedMedia(
            "the file is also a ZIP archive; upload the image alone",
            {"field": "file", "trailing_bytes": 0},
        )


def image_end(data: bytes, image_format: str) -> int | None:
    """The offset just past the image, or None when its framing cannot be followed."""
    if image_format == "PNG":
        return _png_end(data)
    if image_format in ("JPEG", "MPO"):
        return _jpeg_chain_end(data)
    if image_format == "WEBP":
        return _riff_end(data)
    return None


def _png_end(data: bytes) -> int | None:
    if not data.startswith(PNG_SIGNATURE):
        return None
    return next((end + 4 for kind, _, end in png_chunks(data) if kind == b"IEND"), None)


def _jpeg_chain_end(data: bytes) -> int | None:
    """The end of the last of one or more JPEGs in a row (MPO files hold several)."""
    end = _jpeg_end(data, 0)
    while end is not None and data.startswith(b"\xff\xd8", end):
        following = _jpeg_end(data, end)
        if following is None:
            break
        end = following
    return end


def _jpeg_end(data: bytes, start: int) -> int | None:
    if not data.startswith(b"\xff\xd8", start):
        return None
    n = len(data)
    i = start + 2
    while i < n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            return i
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            continue
        if i + 2 > n:
            return None
        i += int.from_bytes(data[i : i + 2], "big")
        if marker == 0xDA:  # a scan: entropy-coded data runs to the next real marker
            i = _scan_end(data, i)
            if i < 0:
                return None
    return None


def _scan_end(data: bytes, i: int) -> int:
    """The offset of the marker that ends entropy-coded data starting at i (-1: none)."""
    while True:
        j = data.find(b"\xff", i)
        if j < 0 or j + 1 >= len(data):
            return -1
        following = data[j + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte, restart marker
            i = j + 2
        elif following == 0xFF:  # fill byte before a marker
            i = j + 1
        else:
            return j


def _riff_end(data: bytes) -> int | None:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    size = int.from_bytes(data[4:8], "little")
    return 8 + size + (size & 1)


def _opens_as_zip(data: bytes) -> bool:
    if b"PK\x05\x06" not in data[-(65_536 + 22) :]:  # no end-of-directory record: not a ZIP
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)):
            return True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
