"""The pixels of a plain PNG, fast: ISA-L inflates the image data and libspng unfilters it.

A PNG's decode is most of its import thumbnail's CPU, and most of the decode is zlib's
inflate: for a 512 px picture, 6.3 ms of libspng's 6.9 ms here. ISA-L (python-isal, already
a dependency) inflates the same stream in 2.3 ms. libspng cannot take another inflater, so it
is handed the inflated rows again, wrapped in stored (uncompressed) deflate blocks, which it
copies (0.4 ms); it still undoes the row filters with SIMD and checks the stream's length,
filter bytes and checksums as it would in the original file.

Only 8-bit RGB and RGBA without interlacing or tRNS take this path. Anything else, and any
file whose image data does not check out here (a wrong CRC, a short or overlong stream, bytes
after its end), gets None, and the caller decodes it the old way, which decides what a damaged
file is.
"""

from __future__ import annotations

import struct

import numpy as np
from isal import isal_zlib

try:  # libspng: SIMD row unfiltering where its wheel installs (Linux x86-64); Pillow elsewhere
    import pyspng as _spng
except ImportError:  # pragma: no cover - platforms without the wheel
    _spng = None

from promptcanvas.services.metadata.carriers import PNG_SIGNATURE, png_chunks

_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_IDAT_CRC = isal_zlib.crc32(b"IDAT")  # a chunk's CRC covers its type, then its body
_CHANNELS = {2: 3, 6: 4}  # colour type: 8-bit RGB, 8-bit RGBA
_STORED_BLOCK = 0xFFFF  # the most a stored deflate block holds
# The fast path holds the rows twice more than a plain decode does (inflated, then wrapped), so
# images past 128 MiB of rows (e.g. 5,792 px square RGBA) decode the old way.
_MAX_DATA = 1 << 27


def pixels(data: bytes) -> np.ndarray | None:
    """(height, width, 3 or 4) uint8 pixels of a plain 8-bit RGB(A) PNG; None: not by this path."""
    if _spng is None:
        return None
    try:
        decoded = _spng.load(stored(data) or data)
    except Exception:  # libspng refuses it: the caller's decoder decides what is wrong
        return None
    return decoded if decoded.dtype == np.uint8 and decoded.ndim == 3 else None


def stored(data: bytes) -> bytes | None:
    """The same PNG with its image data inflated into stored deflate blocks; None if not plain."""
    header, parts = None, []
    for kind, start, end in png_chunks(data):
        if kind == b"IHDR":
            header = data[start - 8 : end + 4]
        elif kind == b"IDAT":
            body = memoryview(data)[start:end]
            if isal_zlib.crc32(body, _IDAT_CRC) != struct.unpack_from(">I", data, end)[0]:
                return None
            parts.append(body)
    if header is None or len(header) != 25 or not parts:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack_from(">IIBBBBB", header, 8)
    channels = _CHANNELS.get(colour)
    if depth != 8 or channels is None or interlace:
        return None
    size = height * (1 + width * channels)  # each row: its filter byte, then its pixels
    if not 0 < size <= _MAX_DATA:
        return None
    inflater = isal_zlib.decompressobj()
    try:
        rows = inflater.decompress(b"".join(parts), size + 1)
    except Exception:  # isal_zlib.error (typed in its stub as an instance): corrupt stream
        return None
    if len(rows) != size or not inflater.eof or inflater.unused_data:
        return None
    return _wrap(header, rows)


def _wrap(header: bytes, rows: bytes) -> bytes:
    # The zlib header (deflate, 32 KiB window, no dictionary), blocks, then the Adler-32.
    body: list[bytes | memoryview] = [b"\x78\x01"]
    view = memoryview(rows)
    for at in range(0, len(rows), _STORED_BLOCK):
        block = view[at : at + _STORED_BLOCK]
        last = at + _STORED_BLOCK >= len(rows)
        body += (struct.pack("<BHH", last, len(block), len(block) ^ 0xFFFF), block)
    body.append(struct.pack(">I", isal_zlib.adler32(rows)))
    crc = _IDAT_CRC
    for piece in body:
        crc = isal_zlib.crc32(piece, crc)
    length = sum(len(piece) for piece in body)
    start = (PNG_SIGNATURE, header, struct.pack(">I", length), b"IDAT")
    return b"".join((*start, *body, struct.pack(">I", crc), _IEND))
