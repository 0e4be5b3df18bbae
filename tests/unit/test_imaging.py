"""inspect_image: uploads are judged by decoding them, and thumbnails come out upright."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from promptcanvas.domain.errors import DomainError, TooLarge, UnsupportedMedia
from promptcanvas.services.imaging import ImageInfo, inspect_image
from tests import factories

MAX_PIXELS = 64_000_000
THUMB = 128
RED, BLUE = (255, 0, 0), (0, 0, 255)


def inspect(data: bytes, *, max_pixels: int = MAX_PIXELS) -> tuple[ImageInfo, Image.Image]:
    info, thumb = inspect_image(data, max_pixels=max_pixels, thumb_size=THUMB)
    with Image.open(io.BytesIO(thumb)) as image:
        assert image.format == "WEBP"
        image.load()
        return info, image.copy()


def encode(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def halves(width: int, height: int) -> Image.Image:
    """Red on the left half, blue on the right: shows which way an image was turned."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def is_close(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 60 for a, b in zip(pixel[:3], colour, strict=True))


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type", "size"),
    [
        (factories.png(64, 48), "image/png", (64, 48)),
        (factories.jpeg(80, 40), "image/jpeg", (80, 40)),
        (factories.webp(32, 32), "image/webp", (32, 32)),
    ],
    ids=["png", "jpeg", "webp"],
)
def test_accepts_png_jpeg_and_webp(data: bytes, media_type: str, size: tuple[int, int]) -> None:
    info, thumb = inspect(data)
    assert (info.media_type, info.width, info.height) == (media_type, *size)
    assert thumb.size == size  # small images are not blown up


def test_thumbnail_fits_the_box_and_keeps_the_aspect_ratio() -> None:
    info, thumb = inspect(factories.png(600, 300))
    assert (info.width, info.height) == (600, 300)
    assert thumb.size == (THUMB, THUMB // 2)


@pytest.mark.parametrize(
    ("orientation", "top", "bottom"), [(6, RED, BLUE), (8, BLUE, RED)], ids=["cw", "ccw"]
)
def test_exif_rotation_is_applied_to_size_and_thumbnail(
    orientation: int, top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(halves(80, 40), "JPEG", exif=exif.tobytes(), quality=95)

    info, thumb = inspect(data)

    assert (info.width, info.height) == (40, 80)
    assert thumb.size == (40, 80)
    assert is_close(thumb.getpixel((20, 5)), top)
    assert is_close(thumb.getpixel((20, 75)), bottom)


def test_upside_down_photo_keeps_its_size_but_is_turned() -> None:
    exif = Image.Exif()
    exif[0x0112] = 3
    info, thumb = inspect(encode(halves(80, 40), "JPEG", exif=exif.tobytes(), quality=95))
    assert (info.width, info.height) == (80, 40)
    assert is_close(thumb.getpixel((5, 20)), BLUE)
    assert is_close(thumb.getpixel((75, 20)), RED)


def test_transparency_survives_into_the_thumbnail() -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 20, 40))
    _, thumb = inspect(encode(image, "PNG"))
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((35, 20))[3] == 0
    assert thumb.getpixel((5, 20))[3] == 255


@pytest.mark.parametrize(
    "data",
    [
        encode(Image.new("P", (20, 10)), "PNG", transparency=0),
        encode(Image.new("I;16", (20, 10)), "PNG"),
        encode(Image.new("1", (20, 10)), "PNG"),
        encode(Image.new("LA", (20, 10)), "PNG"),
        encode(Image.new("CMYK", (20, 10)), "JPEG"),
        encode(Image.new("L", (20, 10)), "JPEG", progressive=True),
        encode(Image.new("RGBA", (20, 10)), "WEBP", lossless=True),
    ],
    ids=[
        "palette-transparent",
        "16-bit",
        "bilevel",
        "grey-alpha",
        "cmyk",
        "progressive",
        "lossless",
    ],
)
def test_accepts_the_pixel_formats_cameras_and_editors_write(data: bytes) -> None:
    info, thumb = inspect(data)
    assert (info.width, info.height) == (20, 10)
    assert thumb.size == (20, 10)


def test_accepts_multi_picture_jpeg_from_phone_cameras() -> None:
    # Phones store depth maps and previews as extra JPEG frames (MPO); it is still a JPEG.
    front = halves(60, 40)
    data = encode(front, "MPO", save_all=True, append_images=[Image.new("RGB", (60, 40))])
    info, thumb = inspect(data)
    assert (info.media_type, info.width, info.height) == ("image/jpeg", 60, 40)
    assert is_close(thumb.getpixel((5, 20)), RED)


def test_image_at_exactly_the_pixel_cap_is_accepted() -> None:
    info, _ = inspect(factories.png(64, 48), max_pixels=64 * 48)
    assert info.width * info.height == 64 * 48


# --- rejected ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"just some text, named image.png",
        b"\x89PNG\r\n\x1a\n",
        factories.truncated_png(),
        factories.jpeg(200, 200)[:300],
        factories.webp(64, 64)[:40],
        encode(Image.new("RGB", (8, 8)), "BMP"),
        encode(Image.new("RGB", (8, 8)), "TIFF"),
    ],
    ids=["empty", "text", "signature-only", "truncated-png", "cut-jpeg", "cut-webp", "bmp", "tiff"],
)
def test_rejects_what_is_not_a_whole_png_jpeg_or_webp(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia) as raised:
        inspect_image(data, max_pixels=MAX_PIXELS, thumb_size=THUMB)
    assert raised.value.details["field"] == "file"


def test_rejects_gif_by_name() -> None:
    with pytest.raises(UnsupportedMedia, match="GIF"):
        inspect_image(factories.gif(), max_pixels=MAX_PIXELS, thumb_size=THUMB)


@pytest.mark.parametrize(
    "data",
    [
        factories.svg(),
        b"\xef\xbb\xbf" + factories.svg(),
        b"  \n<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"<!-- drawn by hand -->\n<SVG></SVG>",
        b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg/>',
    ],
    ids=["plain", "bom", "whitespace", "comment-uppercase", "doctype"],
)
def test_rejects_svg_and_says_so(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia, match="SVG"):
        inspect_image(data, max_pixels=MAX_PIXELS, thumb_size=THUMB)


def test_rejects_a_decompression_bomb_naming_its_pixel_count() -> None:
    with pytest.raises(TooLarge) as raised:
        inspect_image(factories.huge_png(), max_pixels=MAX_PIXELS, thumb_size=THUMB)
    assert "900,000,000" in raised.value.message
    assert f"{MAX_PIXELS:,}" in raised.value.message


def test_rejects_an_image_over_the_configured_pixel_cap() -> None:
    with pytest.raises(TooLarge) as raised:
        inspect_image(factories.png(64, 48), max_pixels=64 * 48 - 1, thumb_size=THUMB)
    assert "3,072" in raised.value.message
    assert raised.value.details["limit"] == 64 * 48 - 1


def test_pixel_cap_is_checked_before_pixels_are_decoded() -> None:
    # The pixel data is a few bytes of zlib: only the declared size can be the reason.
    with pytest.raises(TooLarge):
        inspect_image(factories.huge_png(9_000, 9_000), max_pixels=MAX_PIXELS, thumb_size=THUMB)


@pytest.mark.filterwarnings("ignore:.*(EXIF|Tag data).*:UserWarning")
def test_damaged_images_give_a_domain_error_or_a_valid_result() -> None:
    # No byte pattern may escape as anything but a clean rejection (the API's 4xx).
    rng = random.Random(20240601)
    samples = [factories.png(30, 20), factories.jpeg(orientation=6), factories.webp(16, 16)]
    for _ in range(300):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            del data[rng.randrange(len(data)) :]
        try:
            info, thumb = inspect_image(bytes(data), max_pixels=MAX_PIXELS, thumb_size=THUMB)
        except DomainError as exc:
            assert isinstance(exc, TooLarge | UnsupportedMedia), exc
        else:
            assert info.width > 0 and info.height > 0
            assert thumb[:4] == b"RIFF"


def test_a_cap_set_above_pillows_own_names_the_cap_that_applied() -> None:
    # Pillow refuses ~89 Mpx on its own; the message must not claim a higher limit was broken.
    with pytest.raises(TooLarge) as raised:
        inspect_image(factories.huge_png(10_000, 10_000), max_pixels=200_000_000, thumb_size=THUMB)
    assert "100,000,000" in raised.value.message
    assert raised.value.details["limit"] < 100_000_000
    assert f"{raised.value.details['limit']:,}" in raised.value.message


def test_perceptual_hash_is_stable_under_resizing_and_differs_between_images() -> None:
    from PIL import Image, ImageDraw

    from promptcanvas.services.imaging import hash_distance, perceptual_hash

    base = Image.new("RGB", (256, 256), "white")
    ImageDraw.Draw(base).ellipse((40, 40, 200, 200), fill="navy")
    other = Image.new("RGB", (256, 256), "white")
    ImageDraw.Draw(other).rectangle((0, 150, 256, 256), fill="darkred")
    small = base.resize((97, 97))
    assert hash_distance(perceptual_hash(base), perceptual_hash(small)) <= 4
    assert hash_distance(perceptual_hash(base), perceptual_hash(other)) >= 16
