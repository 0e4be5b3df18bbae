"""AUTOMATIC1111 "stealth pnginfo": generation text hidden in the low bits of the pixels.

The sd-webui-stealth-pnginfo extension (and NovelAI, for its own JSON) writes a bit stream into
the least significant bit of each pixel's alpha ("png" signatures) or of its R, G and B values in
turn ("rgb" signatures), walking the image column by column (x outer, y inner). The stream is a
15-byte signature, a 32-bit big-endian payload length in bits, then the payload: UTF-8 text,
gzipped for the "comp" signatures. Unlike text chunks this survives tools that strip metadata.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from promptcanvas.services.metadata.carriers import PNG_SIGNATURE, png_chunks

SIGNATURES = {
    "stealth_pnginfo": ("alpha", False),
    "stealth_pngcomp": ("alpha", True),
    "stealth_rgbinfo": ("rgb", False),
    "stealth_rgbcomp": ("rgb", True),
}
_SIGNATURE_BITS = 15 * 8
_HEADER_BITS = _SIGNATURE_BITS + 32
# Fewer pixels than this cannot hold even a signature and length (3 low bits per RGB pixel).
MIN_PIXELS = -(-_HEADER_BITS // 3)
_MAX_PAYLOAD = 32 << 20  # after decompression; generation text is a few KiB


def read_stealth(data: bytes, *, max_pixels: int) -> tuple[str, str] | None:
    """The (signature, text) hidden in a PNG or lossless WebP's pixels, or None.

    Decodes the pixels, so callers use it only when a file has no text metadata; an image of
    more than `max_pixels` pixels is not decoded and gives None. Most 8-bit RGB(A) PNGs are
    ruled out first from their first column, inflating only the first rows.
    """
    if _png_rules_out(data):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > max_pixels or image.format not in ("PNG", "WEBP"):
                return None
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            pixels = np.asarray(image.convert("RGBA" if has_alpha else "RGB"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None  # undecodable pixels hide nothing we can read
    modes = ("alpha", "rgb") if has_alpha else ("rgb",)
    for mode in modes:
        found = _read(pixels, mode)
        if found is not None:
            return found
    return None


def _read(pixels: NDArray[np.uint8], mode: str) -> tuple[str, str] | None:
    header = _bits(pixels, mode, _HEADER_BITS)
    if len(header) < _HEADER_BITS // 8:
        return None
    signature = header[:15].decode("latin-1")
    if SIGNATURES.get(signature, ("", False))[0] != mode:
        return None
    compressed = SIGNATURES[signature][1]
    length_bits = int.from_bytes(header[15:19], "big")
    stream = _bits(pixels, mode, _HEADER_BITS + length_bits)
    payload = stream[19 : 19 + length_bits // 8]
    if compressed:
        try:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
            payload = inflater.decompress(payload, _MAX_PAYLOAD)
        except zlib.error:
            return None
    return signature, payload.decode("utf-8", errors="replace")


def _bits(pixels: NDArray[np.uint8], mode: str, count: int) -> bytes:
    """The first `count` bits of the stream (fewer if the image runs out), packed MSB first."""
    height, width = pixels.shape[:2]
    per_column = height * (1 if mode == "alpha" else 3)
    columns = min(width, -(-count // per_column))
    if mode == "alpha":
        low = pixels[:, :columns, 3] & 1
        stream = low.T.reshape(-1)
    else:
        low = pixels[:, :columns, :3] & 1
        stream = low.transpose(1, 0, 2).reshape(-1)
    stream = stream[: min(len(stream), count) // 8 * 8]
    packed: bytes = np.packbits(stream).tobytes()
    return packed


def _png_rules_out(data: bytes) -> bool:
    """True if a PNG's first column shows no signature; False if it might (or we cannot tell).

    Every signature sits in column 0 of an image at least 120 pixels high, and in PNG's row
    filters column 0 depends only on the pixel above it, so 120 rows are enough to know.
    """
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33:
        return False
    width, height, depth, color, _, _, interlace = struct.unpack_from(">IIBBBBB", data, 16)
    channels = {2: 3, 6: 4}.get(color)
    if channels is None or depth != 8 or interlace or height < _SIGNATURE_BITS:
        return False
    stride = 1 + width * channels
    need = _SIGNATURE_BITS * stride
    view, inflater, raw = memoryview(data), zlib.decompressobj(), bytearray()
    for kind, start, end in png_chunks(data):
        if len(raw) >= need:
            break
        if kind == b"IDAT":
            try:
                raw += inflater.decompress(view[start:end], need - len(raw))
            except zlib.error:
                return False
    if len(raw) < need:
        return False
    column = np.zeros((_SIGNATURE_BITS, channels), dtype=np.int32)
    above = np.zeros(channels, dtype=np.int32)
    for row in range(_SIGNATURE_BITS):
        at = row * stride
        kind, value = raw[at], np.frombuffer(raw, np.uint8, channels, at + 1).astype(np.int32)
        if kind in (2, 4):  # Up; Paeth with no left neighbour picks the pixel above
            value = value + above
        elif kind == 3:  # Average of left (0) and above
            value = value + above // 2
        elif kind > 4:
            return False
        above = column[row] = value % 256
    found = []
    if channels == 4:
        found.append(np.packbits(column[:, 3] & 1).tobytes().decode("latin-1"))
    rgb_bits = (column[: _SIGNATURE_BITS // 3, :3] & 1).reshape(-1)
    found.append(np.packbits(rgb_bits).tobytes().decode("latin-1"))
    return not any(signature in SIGNATURES for signature in found)
