"""The local renderer: a prompt's scene drawn procedurally, in two looks.

Version "1" is a flat poster: banded sky, hard-edged shapes, subjects in a symmetric row.
Version "2" is softer: smooth sky, rule-of-thirds composition with depth, shadows, glow round
the sun or moon, vignette and paper texture. The seed decides every position, size and colour
pick through one numpy Generator, so the same scene, seed, version and size give the same pixels.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from isal import isal_zlib
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from promptcanvas.adapters.providers import looks, scenery, sky
from promptcanvas.adapters.providers.figures import FIGURES, NATURAL
from promptcanvas.adapters.providers.pen import RGB, Body, Pen, Rng, pick
from promptcanvas.adapters.providers.scene import Scene

VERSIONS = ("1", "2")
# Height of each figure, as a fraction of the picture's, when standing in front.
SIZE = {
    "cat": 0.3, "dog": 0.3, "rabbit": 0.22, "fox": 0.28, "horse": 0.45, "person": 0.45,
    "astronaut": 0.45, "robot": 0.4, "tree": 0.5, "flower": 0.16, "house": 0.4, "castle": 0.5,
    "tower": 0.55, "lighthouse": 0.55, "car": 0.3, "snowman": 0.35, "boat": 0.28, "fish": 0.08,
    "bird": 0.04, "butterfly": 0.05, "balloon": 0.2, "airplane": 0.14,
}  # fmt: skip
AIRBORNE = frozenset({"bird", "butterfly", "balloon", "airplane"})
SWIMMING = frozenset({"boat", "fish"})
FLOCKS = {"flower": (6, 11), "tree": (2, 4), "bird": (3, 6), "butterfly": (2, 4), "fish": (2, 4)}
BILINEAR = Image.Resampling.BILINEAR
SLOTS = (0.5, 0.2, 0.8, 0.35, 0.65, 0.08, 0.92)  # version 1 lines subjects up symmetrically


def render(
    scene: Scene,
    width: int,
    height: int,
    seed: int,
    version: str,
    init: Image.Image | None = None,
    strength: float = 0.6,
    step: Callable[[float], None] | None = None,
) -> Image.Image:
    """The scene as an RGB image; `init` (img2img) shows through by 1 - strength."""
    soft = version == "2"
    rng = np.random.default_rng(seed)
    w, h = width, height
    horizon = _horizon(scene, rng, h, soft)
    if soft:
        main_x = w * (0.5 + (1 if rng.random() < 0.5 else -1) / 6 + float(rng.uniform(-0.04, 0.04)))
        light_x = w - main_x + w * float(rng.uniform(-0.05, 0.05))
    else:
        main_x, light_x = w / 2, w * (0.78 + float(rng.uniform(-0.03, 0.03)))
    image = sky.sky(scene, rng, w, h, horizon, soft)
    back = Pen((w, h), sky.ambient(scene.time, soft))
    spot = sky.celestial(back, scene, rng, w, h, horizon, light_x)
    sky.clouds(back, scene, rng, w, horizon, soft)
    ground = scenery.land(back, scene, rng, w, h, horizon, spot[0] if spot else None)
    _paste(image, back, soft)
    if soft and "bokeh" in scene.camera:
        image = image.reduce(4).filter(ImageFilter.GaussianBlur(2)).resize(image.size, BILINEAR)
    if step:
        step(0.4)
    front = Pen((w, h), sky.ambient(scene.time, soft))
    shadows = Image.new("L", (w, h)) if soft else None
    _cast(front, shadows, scene, rng, (w, h, horizon), ground, main_x, soft)
    if shadows is not None and shadows.getbbox():
        blurred = shadows.reduce(4).filter(ImageFilter.GaussianBlur(2)).resize(image.size, BILINEAR)
        image.paste((0, 0, 0), (0, 0, w, h), blurred.point(lambda v: v * 2 // 5))
    _paste(image, front, soft)
    if scene.weather & {"rain", "storm", "snow"}:
        sky_pen = Pen((w, h), (1.0, 1.0, 1.0))
        sky.weather(sky_pen, scene, rng, w, h, horizon, soft)
        _paste(image, sky_pen, False)
    if step:
        step(0.7)
    if init is not None:
        fitted = ImageOps.fit(init.convert("RGB"), (w, h), Image.Resampling.BILINEAR)
        image = Image.blend(fitted, image, strength)
    image = looks.fog(image, scene, horizon)
    image = looks.suppress(image, scene.suppress)
    image = looks.grade(image, scene)
    if soft:
        image = looks.light(image, rng, spot, scene)
    return looks.stylise(image, scene, rng, soft)


def encode_png(image: Image.Image) -> bytes:
    """PNG bytes with fixed settings and no metadata, so equal pixels give equal bytes.

    Written here rather than by Pillow: Pillow's adaptive row filters spend about as long
    choosing as zlib spends compressing, and its choices may change between releases,
    which would change the bytes of a deterministic picture. Deflate is ISA-L's (python-isal):
    on a 1024x1024 picture 4 ms instead of zlib's 16 ms at level 1, for the same size.
    """
    pixels = np.asarray(image.convert("RGB"))
    h, w, _ = pixels.shape
    rows = pixels.reshape(h, w * 3)
    filtered = np.empty((h, w * 3 + 1), dtype=np.uint8)
    filtered[:, 0] = 1  # "Sub": each byte minus the one a pixel to its left
    filtered[:, 1:4] = rows[:, :3]
    np.subtract(rows[:, 3:], rows[:, :-3], out=filtered[:, 4:])
    body = isal_zlib.compress(filtered.tobytes(), 2)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _horizon(scene: Scene, rng: Rng, h: int, soft: bool) -> int:
    base = 0.62
    if scene.places == ("sky",):
        base = 0.8
    if "aerial view" in scene.camera:
        base = 0.3
    if soft:  # thirds: more sky or more land
        base += float(rng.choice([-0.12, 0.0, 0.06]))
    return int(h * min(0.85, max(0.25, base + float(rng.uniform(-0.02, 0.02)))))


def _paste(image: Image.Image, pen: Pen, soft: bool) -> None:
    # Only the drawn part is blurred and pasted (often a small share of the frame); the margin
    # keeps the box blur's edge handling on empty pixels, so the result is the same.
    box = pen.mask.getbbox()
    if box is None:
        return
    w, h = image.size
    box = (max(box[0] - 3, 0), max(box[1] - 3, 0), min(box[2] + 3, w), min(box[3] + 3, h))
    mask = pen.mask.crop(box)
    if soft:
        mask = mask.filter(ImageFilter.BoxBlur(1))
    image.paste(pen.ink.crop(box), box[:2], mask)


class Placed(NamedTuple):
    """A subject where it will be drawn; layer 0 swims, 1 stands, 2 flies (drawn in that order)."""

    layer: int
    y: float
    x: float
    name: str
    size: float
    facing: int
    colour: RGB


def _cast(
    pen: Pen,
    shadows: Image.Image | None,
    scene: Scene,
    rng: Rng,
    frame: tuple[int, int, int],
    ground: scenery.Ground,
    main_x: float,
    soft: bool,
) -> None:
    """Place and draw the subjects: farther ones first, airborne ones last."""
    w, h, horizon = frame
    subjects = list(scene.subjects)
    if "garden" in scene.places and "flower" not in subjects:
        subjects.append("flower")
    zoom = 0.6 if scene.camera & {"wide shot", "aerial view"} else 1.0
    close = bool(scene.camera & {"close-up", "portrait"})
    top, bottom = ground.land
    cast: list[Placed] = []
    singles = 0
    for i, name in enumerate(subjects):
        colour = scene.palette[i % len(scene.palette)] if scene.palette else None
        low, high = FLOCKS.get(name, (1, 1))
        count = int(rng.integers(low, high + 1))
        for k in range(count):
            facing = 1 if rng.random() < 0.5 else -1
            tone = colour or pick(rng, NATURAL[name])
            spread = (k + 1) / (count + 1) + (0.5 / (count + 1) if i % 2 else 0)
            x = w * (float(rng.uniform(0.06, 0.94)) if soft else spread % 1.0)
            size = SIZE[name] * h * zoom
            if name in AIRBORNE:
                y = horizon * (float(rng.uniform(0.15, 0.6)) if soft else 0.3 + 0.12 * (k % 2))
                size *= float(rng.uniform(0.6, 1.3)) if soft else 1.0
                cast.append(Placed(2, y, x, name, size, facing, tone))
                continue
            lane = ground.water if name in SWIMMING and ground.water else ground.land
            depth = float(rng.uniform(0.15, 0.7)) if soft else 0.55
            if name in SWIMMING:
                y = lane[0] + (lane[1] - lane[0]) * depth
                cast.append(Placed(0, y, x, name, size * (0.5 + 0.6 * depth), facing, tone))
                continue
            if count == 1:
                if singles == 0:
                    x, depth = main_x, (0.8 if soft else 0.6)
                    size *= 1.7 if close else 1.0
                elif not soft:
                    x = w * SLOTS[singles % len(SLOTS)]
                elif abs(x - main_x) < 0.15 * w:
                    x = (x + 0.4 * w) % w  # keep clear of the main subject
                singles += 1
            elif not soft:
                depth = {"tree": 0.3, "flower": 0.85}.get(name, 0.6)
            y = top + (bottom - top) * depth
            if soft:
                size *= 0.4 + 0.6 * depth / 0.8  # perspective: farther is smaller
            size = min(size, 0.92 * y)
            cast.append(Placed(1, y, x, name, size, facing, tone))
    draw = None if shadows is None else ImageDraw.Draw(shadows)
    for p in sorted(cast):  # by layer, then farther (higher up) first
        if draw is not None and p.layer == 1:
            wide = p.name in ("car", "house", "castle", "horse", "dog")
            half = 0.3 * p.size * (1.5 if wide else 1)
            draw.ellipse((p.x - half, p.y - 0.05 * p.size, p.x + half, p.y + 0.05 * p.size), 255)
        FIGURES[p.name](Body(pen, p.x, p.y, p.size, p.facing, rng), p.colour)
