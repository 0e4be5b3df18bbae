"""Import thumbnails: JPEG when opaque, WebP when the image has alpha or the key asks for it;
the fast decoders (PNG, JPEG at k/8 scale) give what Pillow would."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw

from promptcanvas.domain.assets import thumbnail_key, thumbnail_media_type
from promptcanvas.services import jpeg_fast, png_fast
from promptcanvas.services.imaging import hash_distance
from promptcanvas.services.import_media import make_thumbnail, remake_thumbnail
from promptcanvas.services.import_scan import Entry, FolderSource


def encoded(mode: str, colour: tuple[int, ...], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (600, 400), colour).save(out, fmt)
    return out.getvalue()


def test_an_opaque_image_gets_a_jpeg_thumbnail_of_its_colours() -> None:
    thumb = make_thumbnail(encoded("RGB", (200, 30, 40)), 384)
    assert thumb.media_type == "image/jpeg" and thumb.data is not None
    image = Image.open(io.BytesIO(thumb.data))
    assert image.format == "JPEG" and image.size == (384, 256)
    assert image.getpixel((10, 10)) == pytest.approx((200, 30, 40), abs=6)


def test_an_image_with_alpha_keeps_it_in_a_webp_thumbnail() -> None:
    thumb = make_thumbnail(encoded("RGBA", (10, 20, 30, 0)), 384)
    assert thumb.media_type == "image/webp" and thumb.data is not None
    image = Image.open(io.BytesIO(thumb.data))
    assert image.format == "WEBP" and image.mode == "RGBA"
    assert image.getpixel((5, 5))[3] == 0


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/webp"])
def test_the_key_names_the_format_and_a_remade_thumbnail_keeps_it(media_type: str) -> None:
    key = thumbnail_key("ab" * 32, media_type)
    assert thumbnail_media_type(key) == media_type
    remade = remake_thumbnail(encoded("RGB", (1, 2, 3), "JPEG"), 64, key)
    assert Image.open(io.BytesIO(remade)).get_format_mimetype() == media_type


def test_a_thumbnail_that_cannot_be_remade_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not decode"):
        remake_thumbnail(b"\x89PNG\r\n\x1a\nbroken", 64, thumbnail_key("cd" * 32))


def test_a_file_that_grew_after_the_scan_is_read_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"x" * 10)
    entry = Entry(str(path), "a.png", 10, 0)
    source = FolderSource(tmp_path)
    assert source.read(entry, 100) == b"x" * 10
    path.write_bytes(b"y" * 50)  # rewritten bigger: the read sees all of it
    assert source.read(entry, 100) == b"y" * 50
    assert len(source.read(entry, 20)) == 21  # over the limit: one byte more tells the caller


def gradient_png(mode: str, **save: object) -> bytes:
    """A PNG whose rows differ (so every row filter is used), in the given mode."""
    rgb = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    rgb = Image.merge("RGB", (rgb.getchannel(0), rgb.getchannel(0).rotate(90), rgb.getchannel(0)))
    image = rgb.convert(mode) if mode != "RGBA" else rgb.convert("RGBA")
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize((300, 200)))
    out = io.BytesIO()
    image.save(out, "PNG", **save)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "save"),
    [
        ("RGB", {}),
        ("RGBA", {}),
        ("P", {}),
        ("L", {}),
        ("RGB", {"transparency": (0, 0, 0)}),
        ("I;16", {}),
    ],
    ids=["rgb", "rgba", "palette", "grey", "trns", "16-bit"],
)
def test_every_kind_of_png_gets_the_thumbnail_pillow_would_make(
    mode: str, save: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = gradient_png(mode, **save)
    fast = make_thumbnail(data, 128)
    monkeypatch.setattr(png_fast, "_spng", None)  # Pillow decodes everything
    slow = make_thumbnail(data, 128)
    assert fast.data is not None and slow.data is not None
    assert (fast.media_type, fast.swapped) == (slow.media_type, slow.swapped)
    a, b = Image.open(io.BytesIO(fast.data)), Image.open(io.BytesIO(slow.data))
    assert (a.size, a.mode) == (b.size, b.mode)
    diff = ImageChops.difference(a.convert("RGBA"), b.convert("RGBA")).getextrema()
    assert max(high for _, high in diff) <= 2
    assert fast.phash == slow.phash


def test_a_png_with_damaged_pixel_data_fails_whichever_decoder_runs() -> None:
    data = bytearray(gradient_png("RGB"))
    at = data.index(b"IDAT") + 4
    data[at : at + 16] = b"\xff" * 16
    assert make_thumbnail(bytes(data), 128).data is None


def photo_jpeg(size: tuple[int, int], mode: str = "RGB", **save: object) -> bytes:
    """A JPEG of shapes on a gradient (a picture with structure, which its hash describes)."""
    grey = Image.linear_gradient("L").resize(size)
    rgb = Image.merge("RGB", (grey, grey.transpose(Image.Transpose.ROTATE_90).resize(size), grey))
    draw = ImageDraw.Draw(rgb)
    w, h = size
    draw.ellipse((w // 8, h // 6, w // 2, h // 2), fill=(240, 200, 40))
    draw.rectangle((w // 2, h // 2, w - w // 10, h - h // 8), fill=(20, 60, 160))
    draw.line((0, h - 1, w - 1, 0), fill=(255, 255, 255), width=max(2, w // 60))
    out = io.BytesIO()
    rgb.convert(mode).save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def with_orientation(data: bytes, orientation: int) -> bytes:
    image = Image.open(io.BytesIO(data))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "scaled"),
    [
        (photo_jpeg((512, 512)), (384, 384)),  # 3/4
        (photo_jpeg((1024, 768)), (384, 288)),  # 3/8
        (photo_jpeg((600, 900), progressive=True), (300, 450)),  # 1/2; Pillow decodes it whole
        (photo_jpeg((512, 512), "L"), (384, 384)),
        (photo_jpeg((1600, 1600)), None),  # 1/4, as Pillow's draft: Pillow decodes it
        (photo_jpeg((200, 120)), None),  # smaller than the thumbnail: whole, as Pillow does
        (photo_jpeg((512, 512), "CMYK"), None),
    ],
    ids=["3/4", "3/8", "progressive portrait", "grey", "1/4", "small", "cmyk"],
)
def test_a_jpeg_decodes_at_the_smallest_dct_scale_still_as_big_as_the_thumbnail(
    data: bytes, scaled: tuple[int, int] | None
) -> None:
    if jpeg_fast._sj is None:
        pytest.skip("simplejpeg has no wheel here")
    pixels = jpeg_fast.pixels(data, 384)
    if scaled is None:
        assert pixels is None
    else:
        assert pixels is not None and pixels.shape == (scaled[1], scaled[0], 3)


@pytest.mark.parametrize(
    "data",
    [
        photo_jpeg((512, 512)),
        photo_jpeg((1024, 768)),
        photo_jpeg((600, 900), progressive=True),
        photo_jpeg((512, 512), "L"),
        photo_jpeg((1600, 1600)),
        photo_jpeg((512, 512), "CMYK"),
        with_orientation(photo_jpeg((640, 480)), 6),
    ],
    ids=["3/4", "3/8", "progressive portrait", "grey", "1/4", "cmyk", "turned"],
)
def test_every_kind_of_jpeg_gets_the_thumbnail_pillow_would_make(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = make_thumbnail(data, 384)
    monkeypatch.setattr(jpeg_fast, "_sj", None)  # Pillow decodes everything
    slow = make_thumbnail(data, 384)
    assert fast.data is not None and slow.data is not None
    assert (fast.media_type, fast.swapped) == (slow.media_type, slow.swapped)
    a, b = Image.open(io.BytesIO(fast.data)), Image.open(io.BytesIO(slow.data))
    assert (a.size, a.mode) == (b.size, b.mode)
    # Scaling in the inverse DCT and box-resizing the pixels agree to a level or two on average.
    diff = np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int))
    assert diff.mean() < 2 and np.percentile(diff, 99) <= 32  # edges differ most
    assert fast.phash is not None and hash_distance(fast.phash, slow.phash or "") <= 4


def test_a_turned_jpeg_thumbnail_stands_the_way_it_is_shown() -> None:
    thumb = make_thumbnail(with_orientation(photo_jpeg((640, 480)), 6), 384)
    assert thumb.data is not None and thumb.swapped
    assert Image.open(io.BytesIO(thumb.data)).size == (288, 384)


def test_a_jpeg_cut_short_fails_whichever_decoder_runs() -> None:
    data = photo_jpeg((512, 512))
    assert jpeg_fast.pixels(data[: len(data) // 2], 384) is None  # Pillow decides
    assert make_thumbnail(data[: len(data) // 2], 384).data is None
