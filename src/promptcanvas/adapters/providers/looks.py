"""The local renderer's finishing passes: fog, colour grading by mood, light, and art styles.

Everything runs on whole images with Pillow's C operations (and numpy for the few fields it
cannot build), so a 1024x1024 picture stays within a few tens of milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageChops, ImageEnhance, ImageFilter, ImageOps

from promptcanvas.adapters.providers.pen import RGB, Rng, mix
from promptcanvas.adapters.providers.scene import Scene
from promptcanvas.adapters.providers.sky import sky_colours

STYLES = (
    "watercolor", "pixel art", "oil painting", "sketch", "ink", "cyberpunk", "anime", "photo",
    "cinematic", "flat",
)  # fmt: skip
# mood: (contrast, saturation, brightness, tint, tint amount)
MOODS: dict[str, tuple[float, float, float, RGB, float]] = {
    "calm": (0.88, 0.85, 1.0, (150, 180, 220), 0.08),
    "dramatic": (1.35, 1.15, 0.92, (0, 0, 0), 0.0),
    "cozy": (1.0, 1.05, 1.02, (255, 170, 90), 0.14),
    "dreamy": (0.9, 0.95, 1.05, (230, 190, 255), 0.12),
    "mysterious": (1.1, 0.8, 0.78, (40, 50, 110), 0.15),
    "cheerful": (1.05, 1.25, 1.08, (255, 240, 200), 0.04),
    "melancholy": (0.95, 0.6, 0.9, (110, 130, 160), 0.15),
    "romantic": (1.0, 1.05, 1.02, (255, 140, 180), 0.14),
}
PAPER: RGB = (250, 246, 236)
BILINEAR = Image.Resampling.BILINEAR


def noise(rng: Rng, size: tuple[int, int], cell: int, low: int, high: int) -> Image.Image:
    """Smooth seeded noise between low and high, one random value per `cell` pixels."""
    w, h = size
    grid = rng.random((h // cell + 2, w // cell + 2), dtype=np.float32)
    small = Image.fromarray((low + grid * (high - low)).astype(np.uint8))
    return small.resize(size, Image.Resampling.BICUBIC)


def _gray(levels: NDArray[np.floating[Any]]) -> Image.Image:
    return Image.fromarray(np.clip(levels, 0, 255).astype(np.uint8))


def _rgb(mask: Image.Image) -> Image.Image:
    return Image.merge("RGB", (mask, mask, mask))


def _tinted(mask: Image.Image, colour: RGB) -> Image.Image:
    """A grey mask coloured: white becomes `colour`, black stays black."""
    bands = [mask.point([i * c // 255 for i in range(256)]) for c in colour]
    return Image.merge("RGB", bands)


def bloom(image: Image.Image, amount: float) -> Image.Image:
    """A soft glow around bright areas (blurred small, so it stays cheap)."""
    glow = image.reduce(4).filter(ImageFilter.GaussianBlur(3)).resize(image.size, BILINEAR)
    return Image.blend(image, ImageChops.screen(image, glow), amount)


def fog(image: Image.Image, scene: Scene, horizon: int) -> Image.Image:
    """Mist thickest at the horizon, in fog, rain and storms."""
    if not scene.weather & {"fog", "rain", "storm"}:
        return image
    w, h = image.size
    thick = 0.6 if "fog" in scene.weather else 0.3
    rows = np.arange(h, dtype=np.float32)
    profile = thick * np.exp(-(((rows - horizon) / (0.3 * h)) ** 2)) * 255
    mask = _gray(np.broadcast_to(profile[:, None], (h, w)))
    colour = mix((200, 205, 212), sky_colours(scene)[2], 0.6)
    return Image.composite(Image.new("RGB", image.size, colour), image, mask)


def suppress(image: Image.Image, colours: tuple[RGB, ...]) -> Image.Image:
    """Take the negative prompt's colours out: remove each one's share of every pixel's hue."""
    if not colours:
        return image
    pixels = np.asarray(image, dtype=np.float32)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    luma = pixels @ weights
    chroma = pixels - luma[..., None]
    for colour in colours:
        direction = np.array(colour, dtype=np.float32)
        direction -= direction @ weights
        norm = float(np.linalg.norm(direction))
        if norm < 1:
            continue  # a grey has no hue to take away
        direction /= norm
        chroma -= np.maximum(chroma @ direction, 0)[..., None] * direction
    out = np.clip(luma[..., None] + chroma, 0, 255).astype(np.uint8)
    return Image.fromarray(out)


def grade(image: Image.Image, scene: Scene) -> Image.Image:
    """Contrast, saturation, brightness and tint from the moods, palette and lighting words."""
    contrast = saturation = brightness = 1.0
    tints: list[tuple[RGB, float]] = []
    for mood in sorted(scene.moods):
        c, s, b, tint, amount = MOODS[mood]
        contrast, saturation, brightness = contrast * c, saturation * s, brightness * b
        if amount:
            tints.append((tint, amount))
    if "candlelight" in scene.lights:
        tints.append(((255, 160, 80), 0.12))
    if scene.palette:
        mean = np.mean(np.array(scene.palette, dtype=np.float32), axis=0)
        tints.append(((int(mean[0]), int(mean[1]), int(mean[2])), 0.12))
    if "pastel" in scene.flags:
        tints.append(((255, 250, 250), 0.3))
        saturation *= 0.75
    if "monochrome" in scene.flags:
        saturation = 0.0
    for tint, amount in tints:
        image = Image.blend(image, Image.new("RGB", image.size, tint), amount)
    for enhancer, factor in (
        (ImageEnhance.Color, saturation),
        (ImageEnhance.Contrast, contrast),
        (ImageEnhance.Brightness, brightness),
    ):
        if abs(factor - 1.0) > 1e-3:
            image = enhancer(image).enhance(factor)
    glow = 0.35 * ("dreamy" in scene.moods) + 0.3 * bool(scene.lights & {"glow", "god rays"})
    glow += 0.35 * ("neon" in scene.flags or "cyberpunk" in scene.styles)
    return bloom(image, min(glow, 0.7)) if glow else image


def light(
    image: Image.Image, rng: Rng, spot: tuple[float, float, float, RGB] | None, scene: Scene
) -> Image.Image:
    """Version 2's lighting: a vignette, a faint paper texture and a glow round the sun or moon."""
    w, h = image.size
    # Every field here is smooth, so it is computed at a quarter of the size and stretched.
    qw, qh = max(w // 4, 2), max(h // 4, 2)
    edge = 0.38 if "dramatic" in scene.moods else 0.24
    ys, xs = np.linspace(-1, 1, qh, dtype=np.float32), np.linspace(-1, 1, qw, dtype=np.float32)
    grain = np.asarray(noise(rng, (qw, qh), 6, 242, 255), dtype=np.float32) / 255
    field = np.outer(1 - edge * ys**2, 1 - edge * xs**2) * grain * 255
    image = ImageChops.multiply(image, _rgb(_gray(field).resize(image.size, BILINEAR)))
    if spot is None:
        return image
    x, y, r, colour = spot
    reach, strength = max(5 * r, 0.3 * min(w, h)), 0.5
    if "backlight" in scene.lights or scene.time == "sunset":
        strength = 0.75
    elif scene.time in ("night", "twilight"):  # moonlight is a faint halo, not a second sun
        reach, strength = max(4 * r, 0.2 * min(w, h)), 0.25
    gy = np.exp(-(((np.linspace(0, h, qh, dtype=np.float32) - y) / reach) ** 2))
    gx = np.exp(-(((np.linspace(0, w, qw, dtype=np.float32) - x) / reach) ** 2))
    halo = _gray(np.outer(gy, gx) * (255 * strength)).resize(image.size, BILINEAR)
    return ImageChops.screen(image, _tinted(halo, colour))


def stylise(image: Image.Image, scene: Scene, rng: Rng, soft: bool) -> Image.Image:
    """The art styles the prompt names, in a fixed order."""
    for style in STYLES:
        if style in scene.styles:
            image = _STYLE[style](image, rng, soft)
    return image


def _watercolor(image: Image.Image, rng: Rng, soft: bool) -> Image.Image:
    # Washes are soft, so they are laid at half size and only the paper is full size.
    radius = max(0.5, image.width / (700 if soft else 1000))
    wash = image.reduce(2).filter(ImageFilter.GaussianBlur(radius))
    edges = wash.convert("L").filter(ImageFilter.FIND_EDGES).point(lambda v: 255 - min(v * 3, 120))
    wash = ImageChops.multiply(wash, _rgb(edges))  # pigment pools at the edges of each wash
    paper = noise(rng, image.size, 4, 236, 255)
    wash = ImageChops.multiply(wash.resize(image.size, BILINEAR), _rgb(paper))
    return Image.blend(wash, Image.new("RGB", image.size, PAPER), 0.18)


def _pixel_art(image: Image.Image, _rng: Rng, soft: bool) -> Image.Image:
    w, h = image.size
    block = max(4, min(w, h) // (64 if soft else 48))
    small = image.resize((max(1, w // block), max(1, h // block)), Image.Resampling.BOX)
    palette = small.quantize(24 if soft else 12, dither=Image.Dither.NONE).convert("RGB")
    return palette.resize(image.size, Image.Resampling.NEAREST)


def _oil(image: Image.Image, rng: Rng, _soft: bool) -> Image.Image:
    w, h = image.size
    # Paint is laid at half size (smoothed, then crisp edges): painterly and cheap.
    small = image.reduce(2).filter(ImageFilter.SMOOTH_MORE).filter(ImageFilter.EDGE_ENHANCE)
    small = ImageEnhance.Color(small).enhance(1.25)
    # Brush strokes: noise stretched sideways into streaks.
    grid = rng.random((h // 5 + 2, w // 40 + 2), dtype=np.float32)
    strokes = Image.fromarray((205 + grid * 50).astype(np.uint8)).resize((w, h), BILINEAR)
    return ImageChops.multiply(small.resize(image.size, BILINEAR), _rgb(strokes))


def _hatching(size: tuple[int, int], step: int, level: int, rising: bool) -> Image.Image:
    """Diagonal lines of grey `level` on white, `step` pixels apart, tiled from one cell."""
    cell = np.full((step, step), 255, dtype=np.uint8)
    index = np.arange(step)
    cell[index, index[::-1] if rising else index] = level
    w, h = size
    return Image.fromarray(np.tile(cell, (h // step + 1, w // step + 1))[:h, :w])


def _lines(image: Image.Image, rng: Rng, soft: bool) -> Image.Image:
    """Dark outlines, and hatching where the picture is dark, in pencil on paper."""
    gray = image.convert("L")
    step = max(4, image.width // 128)
    lines = gray.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 - min(v * 4, 255))
    white = Image.new("L", image.size, 255)
    for level, threshold, rising in ((110, 100, True), (90, 50, False)):
        shade = gray.point(lambda v, t=threshold: 255 if v < t else 0)
        hatch = Image.composite(_hatching(image.size, step, level, rising), white, shade)
        lines = ImageChops.darker(lines, hatch)
    if soft:  # graphite is grainy
        lines = ImageChops.multiply(lines, noise(rng, image.size, 3, 232, 255))
    return _tinted(lines, PAPER)


def _ink(image: Image.Image, rng: Rng, soft: bool) -> Image.Image:
    wash = ImageOps.posterize(image.convert("L").reduce(2), 3).filter(ImageFilter.GaussianBlur(1))
    wash = wash.point(lambda v: 110 + v * 145 // 255).resize(image.size, BILINEAR)  # diluted ink
    inked = ImageChops.multiply(_tinted(wash, PAPER), _lines(image, rng, soft))
    return Image.blend(inked, Image.new("RGB", image.size, PAPER), 0.15)


def _cyberpunk(image: Image.Image, _rng: Rng, _soft: bool) -> Image.Image:
    toned = ImageOps.colorize(image.convert("L"), (20, 0, 50), (255, 150, 240), (0, 190, 230))
    return Image.blend(image, toned, 0.4)


def _anime(image: Image.Image, _rng: Rng, _soft: bool) -> Image.Image:
    cel = ImageOps.posterize(ImageEnhance.Color(image).enhance(1.3), 4)
    # Outlines come from the picture before posterising, so flat bands get none.
    edges = image.convert("L").filter(ImageFilter.FIND_EDGES).point(lambda v: 0 if v > 40 else 255)
    return ImageChops.multiply(cel, _rgb(edges))


def _photo(image: Image.Image, _rng: Rng, _soft: bool) -> Image.Image:
    return image.filter(ImageFilter.UnsharpMask(2, 80, 2))


def _cinematic(image: Image.Image, _rng: Rng, _soft: bool) -> Image.Image:
    w, h = image.size
    toned = ImageOps.colorize(image.convert("L"), (10, 30, 40), (255, 225, 190), (110, 120, 120))
    image = Image.blend(image, toned, 0.3)
    bar = h // 10  # letterbox, as on a cinema screen
    image.paste((0, 0, 0), (0, 0, w, bar))
    image.paste((0, 0, 0), (0, h - bar, w, h))
    return image


def _flat(image: Image.Image, _rng: Rng, _soft: bool) -> Image.Image:
    return ImageOps.posterize(image, 3)


_STYLE = {
    "watercolor": _watercolor, "pixel art": _pixel_art, "oil painting": _oil, "sketch": _lines,
    "ink": _ink, "cyberpunk": _cyberpunk, "anime": _anime, "photo": _photo,
    "cinematic": _cinematic, "flat": _flat,
}  # fmt: skip
