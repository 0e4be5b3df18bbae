"""Test data: real image bytes of every kind an upload can be."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 40)) -> bytes:
    """A real PNG; different colours give different bytes."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 80, height: int = 40, orientation: int | None = None) -> bytes:
    """A real JPEG, optionally with an EXIF orientation tag."""
    image = Image.new("RGB", (width, height), (10, 120, 220))
    out = io.BytesIO()
    if orientation is None:
        image.save(out, "JPEG")
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def webp(width: int = 32, height: int = 32) -> bytes:
    """A real WebP."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 200, 100)).save(out, "WEBP")
    return out.getvalue()


def gif() -> bytes:
    """A real GIF (a format we do not accept)."""
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def truncated_png() -> bytes:
    """A PNG cut off in the middle of its pixel data."""
    data = png(256, 256, (1, 2, 3))
    noisy = Image.frombytes("RGB", (256, 256), bytes(range(256)) * 768)
    out = io.BytesIO()
    noisy.save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


def svg() -> bytes:
    """An SVG with a script in it."""
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(1)</script></svg>'
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small file that declares a gigantic image (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )
