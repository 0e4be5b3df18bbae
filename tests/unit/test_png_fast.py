"""The fast PNG path (ISA-L inflate, libspng unfilter) gives Pillow's pixels or steps aside."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from promptcanvas.services import png_fast
from promptcanvas.services.metadata.carriers import png_chunks
from tests import metadata_builders as build

pytestmark = pytest.mark.skipif(png_fast._spng is None, reason="libspng has no wheel here")


def pillow_pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def assembled(mode: str, rows: bytes, width: int, height: int, *, pieces: int = 3) -> bytes:
    """A PNG whose zlib stream `rows` is split over `pieces` IDAT chunks."""
    colour = {"RGB": 2, "RGBA": 6}[mode]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    step = -(-len(rows) // pieces)
    idats = [build.chunk(b"IDAT", rows[at : at + step]) for at in range(0, len(rows), step)]
    return (
        build.PNG_SIGNATURE
        + build.chunk(b"IHDR", ihdr)
        + b"".join(idats)
        + build.chunk(b"IEND", b"")
    )


def filtered_rows(mode: str, width: int, height: int) -> tuple[np.ndarray, bytes]:
    """Noise pixels and their rows under every filter type in turn, inflated."""
    data = build.png(width, height, mode=mode, filters=(0, 1, 2, 3, 4))
    start, end = next((s, e) for kind, s, e in png_chunks(data) if kind == b"IDAT")
    return build.pixels(width, height, mode), zlib.decompress(data[start:end])


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_every_row_filter_over_several_image_chunks_decodes_to_the_same_pixels(mode: str) -> None:
    expected, rows = filtered_rows(mode, 97, 61)
    data = assembled(mode, zlib.compress(rows), 97, 61, pieces=4)
    assert np.array_equal(pillow_pixels(data), expected)  # the file is what it claims
    assert png_fast.stored(data) is not None  # this file takes the fast path
    decoded = png_fast.pixels(data)
    assert decoded is not None and np.array_equal(decoded, expected)


def test_a_pillow_written_png_with_text_before_and_after_its_pixels_decodes_the_same() -> None:
    image = Image.fromarray(build.pixels(300, 200, "RGBA", seed=5))
    out = io.BytesIO()
    info = PngInfo()
    info.add_text("parameters", "a lighthouse at dusk\nSteps: 20")
    image.save(out, "PNG", pnginfo=info)
    data = out.getvalue() + b"junk after IEND"
    assert len([k for k, _, _ in png_chunks(data) if k == b"IDAT"]) > 1
    decoded = png_fast.pixels(data)
    assert decoded is not None and np.array_equal(decoded, pillow_pixels(data))


def broken(mode: str = "RGB") -> dict[str, bytes]:
    """Damaged image data of every kind the fast path must refuse rather than decode."""
    _, rows = filtered_rows(mode, 40, 30)
    good = zlib.compress(rows)
    bad_crc = bytearray(assembled(mode, good, 40, 30))
    at = bad_crc.index(b"IDAT") + 10
    bad_crc[at] ^= 0xFF
    wrong_adler = good[:-4] + struct.pack(">I", (zlib.adler32(rows) + 1) & 0xFFFFFFFF)
    return {
        "crc": bytes(bad_crc),
        "adler32": assembled(mode, wrong_adler, 40, 30),
        "truncated stream": assembled(mode, good[: len(good) // 2], 40, 30),
        "short rows": assembled(mode, zlib.compress(rows[:-5]), 40, 30),
        "extra rows": assembled(mode, zlib.compress(rows + rows[:121]), 40, 30),
        "bytes after the stream": assembled(mode, good + b"\0\0\0\0", 40, 30),
        "no image data": build.PNG_SIGNATURE
        + build.chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 0))
        + build.chunk(b"IEND", b""),
    }


@pytest.mark.parametrize("kind", list(broken()))
def test_damaged_image_data_is_never_decoded_by_the_fast_path(kind: str) -> None:
    assert png_fast.stored(broken()[kind]) is None


@pytest.mark.parametrize(
    "mode", ["P", "L", "LA", "I;16"], ids=["palette", "grey", "grey-alpha", "16-bit"]
)
def test_other_kinds_of_png_step_aside(mode: str) -> None:
    out = io.BytesIO()
    Image.fromarray(build.pixels(64, 48, "RGBA")).convert(mode).save(out, "PNG")
    assert png_fast.stored(out.getvalue()) is None


def test_an_interlaced_png_steps_aside() -> None:
    ihdr = struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 1)  # Adam7
    data = build.png(40, 30)
    data = data[:8] + build.chunk(b"IHDR", ihdr) + data[33:]
    assert png_fast.stored(data) is None


def test_a_damaged_file_that_libspng_also_refuses_gets_no_pixels() -> None:
    assert png_fast.pixels(broken()["truncated stream"]) is None
