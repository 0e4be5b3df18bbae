"""Image checks and thumbnails tuned for bulk imports.

Uploads decode every pixel (services/imaging.py). An import of thousands of files cannot: its
fast path reads the header (format, size) and walks the file's structure to its end marker,
which catches empty, truncated and text-as-image files without decoding. Pixels are decoded only
to make a thumbnail (which also finds the EXIF orientation), in worker processes when there are
many files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from promptcanvas.domain.assets import thumbnail_media_type
from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.services import jpeg_fast, png_fast
from promptcanvas.services.imaging import perceptual_hash
from promptcanvas.services.metadata.carriers import PNG_SIGNATURE, Carriers, extract, png_chunks

_SWAPS_SIDES = {5, 6, 7, 8}  # EXIF orientations that turn the image a quarter
_TURNS = {  # how to stand an image up, by its EXIF orientation (as ImageOps.exif_transpose does)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Bulk imports are CPU-bound on thumbnails. An opaque thumbnail is a JPEG: libjpeg-turbo
# encodes a 384 px one in ~0.3 ms, libwebp (even at effort 0) in ~2.3 ms, a quarter of the
# whole thumbnail's CPU, for files ~1.8x larger (~15 KB). Thumbnails with alpha stay WebP.
_WEBP_METHOD = 0
_JPEG_QUALITY = 82
NOT_AN_IMAGE = "not an image"
EMPTY = "empty file"
TRUNCATED = "truncated or corrupt"


@dataclass(frozen=True, slots=True)
class Header:
    """What the header says: media type and stored pixel size."""

    media_type: str
    width: int
    height: int

    def swapped(self) -> Header:
        """The size as displayed when the EXIF orientation turns the image a quarter."""
        return Header(self.media_type, self.height, self.width)


class Rejected(Exception):
    """A file an import reports and skips; the message is the reason shown to the user."""


def sniff(data: bytes) -> str | None:
    """The media type the first bytes announce (PNG, JPEG, WebP), or None."""
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _png_complete(data: bytes) -> bool:
    return any(kind == b"IEND" for kind, _, _ in png_chunks(data))


def _jpeg_complete(data: bytes) -> bool:
    # Walk the marker segments to the first scan (skipping APP1, whose EXIF thumbnail has an
    # end marker of its own), then look for the end-of-image marker after it. Entropy-coded
    # data never holds FF D9 (an FF there is always followed by 00 or a restart marker).
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:
            return data.find(b"\xff\xd9", pos) != -1
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return False


def _webp_complete(data: bytes) -> bool:
    return int.from_bytes(data[4:8], "little") + 8 <= len(data)


_COMPLETE = {"image/png": _png_complete, "image/jpeg": _jpeg_complete, "image/webp": _webp_complete}


def check_image(data: bytes, *, max_pixels: int) -> tuple[Header, Carriers]:
    """Check an image by its header and structure, without decoding pixels; Rejected if bad.

    Returns the header and the metadata carriers found on the way (for the metadata reader).
    """
    if not data:
        raise Rejected(EMPTY)
    media_type = sniff(data)
    if media_type is None:
        raise Rejected(NOT_AN_IMAGE)
    if not _COMPLETE[media_type](data):
        raise Rejected(TRUNCATED)
    try:
        carriers = extract(data)
    except UnsupportedMedia as exc:
        raise Rejected(exc.message) from None
    if carriers.width * carriers.height > max_pixels:
        raise Rejected(f"too many pixels (the limit is {max_pixels:,})")
    return Header(media_type, carriers.width, carriers.height), carriers


@dataclass(frozen=True, slots=True)
class Thumb:
    """A thumbnail (JPEG or WebP) and perceptual hash, or why the pixels could not be decoded."""

    data: bytes | None
    phash: str | None
    error: str | None = None
    swapped: bool = False  # the EXIF orientation turns the image a quarter
    media_type: str = "image/jpeg"


def make_thumbnail(data: bytes, size: int, *, media_type: str | None = None) -> Thumb:
    """Decode (JPEG at reduced scale: jpeg_fast), orient, shrink and encode; never raises.

    The thumbnail is a JPEG, or a WebP when the image has alpha or media_type asks for one.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format in ("JPEG", "MPO"):
                if (scaled := jpeg_fast.pixels(data, size)) is not None:
                    orientation = image.getexif().get(0x0112, 1)
                    picture = Image.fromarray(scaled, "RGB")
                    return _shrink(picture, False, orientation, size, media_type)
                image.draft(image.mode, (size, size))  # DCT scaling: decode at 1/2 .. 1/8
            elif (decoded := _fast_png(image, data)) is not None:
                return _shrink(decoded, decoded.mode == "RGBA", 1, size, media_type)
            image.load()
            orientation = image.getexif().get(0x0112, 1) if image.format != "PNG" else 1
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            return _shrink(image, has_alpha, orientation, size, media_type)
    except Exception:  # any decoder failure is this file's problem, never the import's
        return Thumb(None, None, TRUNCATED)


def _fast_png(image: Image.Image, data: bytes) -> Image.Image | None:
    """An 8-bit RGB(A) PNG's pixels by the fast path; None: Pillow decodes it (any other PNG).

    Palette, grey, 16-bit, tRNS-transparent and interlaced PNGs, and anything the fast path
    refuses, go to Pillow, which decides what a damaged file is.
    """
    if (
        image.format != "PNG"
        or image.mode not in ("RGB", "RGBA")
        or "transparency" in image.info
        or image.info.get("interlace")
    ):
        return None
    pixels = png_fast.pixels(data)
    if pixels is None or pixels.shape != (image.height, image.width, len(image.mode)):
        return None
    return Image.fromarray(pixels, image.mode)


def _shrink(
    image: Image.Image, has_alpha: bool, orientation: int, size: int, media_type: str | None
) -> Thumb:
    mode = "RGBA" if has_alpha else "RGB"
    picture = image if image.mode == mode else image.convert(mode)
    if (turn := _TURNS.get(orientation)) is not None:
        picture = picture.transpose(turn)
    # A box filter after integer reductions: at thumbnail scale it looks like Lanczos
    # and costs a third (this step is a fifth of an import's CPU per image).
    scale = min(1.0, size / max(picture.width, picture.height))
    target = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    if target != picture.size:
        picture = picture.resize(target, Image.Resampling.BOX, reducing_gap=2.0)
    out = io.BytesIO()
    webp = has_alpha or media_type == "image/webp"
    if webp:
        picture.save(out, "WEBP", quality=80, method=_WEBP_METHOD)
    else:
        picture.save(out, "JPEG", quality=_JPEG_QUALITY)
    # The hash of a 4x smaller copy is the same 64 bits for a quarter of the work.
    small = picture.reduce(4) if min(picture.size) >= 128 else picture
    swapped = orientation in _SWAPS_SIDES
    kind = "image/webp" if webp else "image/jpeg"
    return Thumb(out.getvalue(), perceptual_hash(small), swapped=swapped, media_type=kind)


def remake_thumbnail(data: bytes, size: int, key: str) -> bytes:
    """A stored image's thumbnail again, in the format its key names; ValueError if it fails.

    The doctor's repair. It uses the import's thumbnailer, not the upload check: a stored file
    was accepted once (imports keep files with trailing bytes), and only its pixels matter.
    """
    made = make_thumbnail(data, size, media_type=thumbnail_media_type(key))
    if made.data is None:
        raise ValueError(f"the stored image does not decode ({made.error})")
    return made.data
