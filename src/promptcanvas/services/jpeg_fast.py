"""The pixels of a JPEG at thumbnail scale: libjpeg-turbo scales while it decodes.

libjpeg-turbo can run its inverse DCT at k/8 of the image's size (k = 1..8), so a JPEG comes
out of the decoder already small, with no full-size pixels made. Pillow's `draft` asks only for
1/2, 1/4 or 1/8, and only as far as both sides stay at least the thumbnail's size: a 512 px
picture wanted at 384 px was decoded whole and then box-resized, and so was a 600x900 one.
simplejpeg exposes every k/8. Thumbnails here (best of 3, 20 files each): 512 px 4.18 ->
2.61 ms, 1024 px 5.61 -> 4.54 ms. Where Pillow's draft reaches the same scale it is a little
faster than simplejpeg (2048 px: 12.4 against 13.4 ms), so those files stay with Pillow.

Colour (YCbCr or RGB) and grey JPEGs take this path. CMYK and YCCK files, and any file the
decoder warns about (strict mode: a truncated or damaged stream), get None, and the caller
decodes them with Pillow, which decides what a damaged file is.
"""

from __future__ import annotations

import numpy as np

try:  # libjpeg-turbo's k/8 scaling; Pillow (1/2, 1/4, 1/8 only) where the wheel is missing
    import simplejpeg as _sj
except ImportError:  # pragma: no cover - platforms without the wheel
    _sj = None

_COLOURSPACES = {"YCbCr", "RGB", "Gray"}


def pixels(data: bytes, size: int) -> np.ndarray | None:
    """(height, width, 3) uint8 RGB pixels; None: not by this path.

    The image is decoded at the smallest k/8 scale whose longer side is still at least `size`
    (whole, if it is no longer than that): the caller box-resizes what is left, if anything.
    """
    if _sj is None:
        return None
    try:
        height, width, colourspace, _ = _sj.decode_jpeg_header(data)
        if colourspace not in _COLOURSPACES or _eighths(width, height, size) == _draft(
            width, height, size
        ):
            return None
        wide = width >= height
        decoded = _sj.decode_jpeg(
            data, "RGB", min_width=size if wide else 0, min_height=0 if wide else size
        )
    except Exception:  # the decoder refuses or warns: the caller's decoder decides
        return None
    return decoded if decoded.ndim == 3 and decoded.shape[2] == 3 else None


def _eighths(width: int, height: int, size: int) -> int:
    """k of the k/8 scale this path decodes at: the smallest whose longer side is >= size."""
    longer = max(width, height)
    return next((k for k in range(1, 8) if -(-longer * k // 8) >= size), 8)


def _draft(width: int, height: int, size: int) -> int:
    """k/8 of the scale Pillow's draft picks for a (size, size) request (PIL.JpegImagePlugin)."""
    fits = min(width // size, height // size)
    return 8 // next(a for a in (8, 4, 2, 1) if fits >= a or a == 1)
