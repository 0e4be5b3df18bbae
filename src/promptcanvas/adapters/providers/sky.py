"""The local renderer's sky: gradient and stars, sun, moon or planet, clouds, and weather."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from promptcanvas.adapters.providers.pen import RGB, Pen, Point, Rng, mix, pick
from promptcanvas.adapters.providers.scene import Scene

# (top, middle, horizon) colours of the sky at each time of day.
SKY: dict[str, tuple[RGB, RGB, RGB]] = {
    "noon": ((70, 140, 230), (130, 185, 240), (205, 228, 250)),
    "morning": ((110, 160, 220), (230, 190, 190), (255, 225, 170)),
    "golden hour": ((90, 120, 190), (240, 170, 110), (255, 210, 130)),
    "sunset": ((45, 40, 100), (200, 90, 100), (255, 160, 80)),
    "twilight": ((15, 25, 70), (60, 60, 130), (150, 110, 150)),
    "night": ((5, 8, 25), (15, 20, 50), (35, 40, 80)),
    "space": ((0, 0, 5), (5, 5, 20), (15, 10, 35)),
}
# How much of each channel unlit things keep (dusk and night dim and cool them).
AMBIENT: dict[str, tuple[float, float, float]] = {
    "noon": (1.0, 1.0, 1.0),
    "morning": (1.0, 0.95, 0.9),
    "golden hour": (1.0, 0.86, 0.7),
    "sunset": (0.9, 0.68, 0.62),
    "twilight": (0.55, 0.55, 0.75),
    "night": (0.33, 0.38, 0.6),
    "space": (0.8, 0.8, 0.85),
}
SUN: dict[str, tuple[RGB, float]] = {  # colour and height as a fraction of the horizon
    "noon": ((255, 250, 225), 0.25),
    "morning": ((255, 228, 165), 0.62),
    "golden hour": ((255, 205, 120), 0.75),
    "sunset": ((255, 212, 140), 0.9),
}
MOON: RGB = (240, 236, 215)
POSTER_NIGHT: RGB = (50, 60, 150)  # version 1's nights are a poster's deep blue, not black


def ambient(time: str, soft: bool) -> tuple[float, float, float]:
    """How much light unlit things keep; version 1 keeps shapes readable even at night."""
    r, g, b = AMBIENT[time]
    if soft:
        return r, g, b
    return min(1.0, r * 1.3 + 0.1), min(1.0, g * 1.3 + 0.1), min(1.0, b * 1.3 + 0.1)


def sky_colours(scene: Scene) -> tuple[RGB, RGB, RGB]:
    """The sky's three colours, tinted toward the palette."""
    top, mid, low = SKY[scene.time]
    if scene.weather & {"rain", "storm"}:
        top, mid, low = (mix(c, (95, 100, 112), 0.6) for c in (top, mid, low))
    if scene.palette:
        top, mid, low = (
            mix(top, scene.palette[0], 0.3),
            mix(mid, scene.palette[-1], 0.25),
            mix(low, scene.palette[-1], 0.2),
        )
    return top, mid, low


def sky(scene: Scene, rng: Rng, w: int, h: int, horizon: int, soft: bool) -> Image.Image:
    """The sky: a gradient to the horizon (in hard bands when not soft), and stars."""
    colours = sky_colours(scene)
    if not soft and scene.time in ("night", "twilight"):
        colours = (
            mix(colours[0], POSTER_NIGHT, 0.3),
            mix(colours[1], POSTER_NIGHT, 0.3),
            mix(colours[2], POSTER_NIGHT, 0.3),
        )
    top, mid, low = (np.array(c, dtype=np.float32) for c in colours)
    t = np.clip(np.arange(h, dtype=np.float32) / max(horizon, 1), 0.0, 1.0)
    if not soft:
        t = np.floor(t * 7) / 6  # a poster's hard bands
    t = np.clip(t, 0.0, 1.0)[:, None]
    upper = top + (mid - top) * np.clip(t * 2, 0, 1)
    rows = np.where(t < 0.5, upper, mid + (low - mid) * np.clip(t * 2 - 1, 0, 1))
    # One pixel wide, stretched sideways: far cheaper than filling an array.
    image = Image.fromarray(rows.astype(np.uint8)[:, None, :]).resize(
        (w, h), Image.Resampling.NEAREST
    )
    if scene.time in ("night", "twilight", "space") or "stars" in scene.celestial:
        count = w * h // (1500 if scene.time != "twilight" else 6000)
        ys = rng.integers(0, max(horizon - 2, 1), count).tolist()
        xs = rng.integers(0, w - 1, count).tolist()
        stars = list(zip(xs, ys, strict=True))
        draw = ImageDraw.Draw(image)
        if soft:
            for k, shine in enumerate((110, 150, 200, 250)):
                draw.point(stars[k::4], fill=(shine, shine, shine))
        else:
            draw.point(
                [(x + dx, y + dy) for x, y in stars for dx in (0, 1) for dy in (0, 1)],
                fill=(255, 255, 255),
            )
    return image


def celestial(
    pen: Pen, scene: Scene, rng: Rng, w: int, h: int, horizon: int, x: float
) -> tuple[float, float, float, RGB] | None:
    """The sun, moon or a planet at column x; returns the light (x, y, radius, colour)."""
    side = min(w, h)
    hidden = scene.weather & {"rain", "storm"}
    if scene.time == "space":
        r = side * float(rng.uniform(0.12, 0.2))
        y = horizon * float(rng.uniform(0.25, 0.5))
        colour = scene.palette[0] if scene.palette else pick(rng, ((200, 120, 80), (90, 150, 210)))
        pen.ellipse(x, y, r, r, colour, lit=True)
        pen.ellipse(x + 0.35 * r, y - 0.3 * r, 0.8 * r, 0.8 * r, mix(colour, (0, 0, 0), 0.45), True)
        pen.line(_ring(x, y, 1.7 * r, 0.3 * r), (210, 200, 180), max(2.0, r * 0.05), lit=True)
        return None
    if scene.time in SUN and "moon" not in scene.celestial and not hidden:
        colour, height = SUN[scene.time]
        r = side * (0.085 if scene.time == "sunset" else 0.06)
        y = horizon * height + float(rng.uniform(-0.03, 0.03)) * h
        pen.ellipse(x, y, r, r, colour, lit=True)
        return x, y, r, colour
    if scene.time in ("night", "twilight") or "moon" in scene.celestial:
        r = side * 0.05
        y = horizon * float(rng.uniform(0.18, 0.35))
        pen.ellipse(x, y, r, r, MOON, lit=True)
        for _ in range(3):
            dx, dy, cr = (float(v) for v in rng.uniform((-0.5, -0.5, 0.1), (0.5, 0.5, 0.25)))
            pen.ellipse(x + dx * r, y + dy * r, cr * r, cr * r, (222, 218, 200), lit=True)
        return x, y, r, (200, 210, 255)
    return None


def _ring(x: float, y: float, rx: float, ry: float) -> list[Point]:
    return [(x + rx * math.cos(a / 10), y + ry * math.sin(a / 10)) for a in range(64)]


def clouds(pen: Pen, scene: Scene, rng: Rng, w: int, horizon: int, soft: bool) -> None:
    """Clouds of overlapping ellipses; more and greyer in rain and storms."""
    if scene.time == "space":
        return
    heavy = bool(scene.weather & {"rain", "storm"})
    count = 7 if heavy else 4 if "clouds" in scene.weather else int(rng.integers(0, 3))
    if scene.time == "night":
        count = min(count, 2)
    colour = mix((250, 250, 252), sky_colours(scene)[2], 0.3)
    if heavy or scene.time == "night":
        colour = (120, 124, 136) if heavy else (60, 64, 86)
    for i in range(count):
        cx = w * ((i + 0.5) / count if not soft else float(rng.uniform(0.05, 0.95)))
        cy = horizon * float(rng.uniform(0.12, 0.55))
        size = w * float(rng.uniform(0.05, 0.09))
        for _ in range(5):
            dx, dy = float(rng.uniform(-1.6, 1.6)), float(rng.uniform(-0.3, 0.3))
            rx = size * float(rng.uniform(0.6, 1.1))
            pen.ellipse(cx + dx * size, cy + dy * size, rx, rx * 0.55, colour)


def weather(pen: Pen, scene: Scene, rng: Rng, w: int, h: int, horizon: int, soft: bool) -> None:
    """Rain streaks, snowflakes and a lightning bolt, drawn over everything else."""
    if scene.weather & {"rain", "storm"}:
        for _ in range(w * h // 2500):
            x, y, length = float(rng.uniform(0, w)), float(rng.uniform(0, h)), h * 0.04
            streak = [(x, y), (x - 0.25 * length, y + length)]
            pen.line(streak, (190, 200, 222), w / 700, lit=True, alpha=150 if soft else 255)
    if "snow" in scene.weather:
        for _ in range(w * h // 3000):
            x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
            r = float(rng.uniform(0.8, 2.5)) * w / 512
            pen.ellipse(x, y, r, r, (250, 250, 255), lit=True)
    if "storm" in scene.weather:
        x, y, path = float(rng.uniform(0.2, 0.8)) * w, 0.0, []
        while y < horizon:
            path.append((x, y))
            x, y = x + float(rng.uniform(-0.04, 0.04)) * w, y + float(rng.uniform(0.04, 0.09)) * h
        pen.line(path, (250, 250, 255), w / 250, lit=True)
