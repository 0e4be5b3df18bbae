"""The local renderer's land: hills, mountains, city, forest, dunes, water and shore."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promptcanvas.adapters.providers.figures import house
from promptcanvas.adapters.providers.pen import RGB, Body, Pen, Point, Rng, mix, pick
from promptcanvas.adapters.providers.scene import Scene
from promptcanvas.adapters.providers.sky import sky_colours

GROUND: dict[str, RGB] = {
    "meadow": (90, 150, 70), "garden": (80, 150, 70), "village": (105, 150, 80),
    "sky": (95, 150, 80), "forest": (45, 95, 50), "city": (65, 65, 75),
    "desert": (225, 185, 120), "sea": (120, 105, 90), "beach": (232, 208, 160),
    "lake": (85, 140, 75), "space": (110, 105, 120), "mountain": (95, 130, 80),
    "snow": (232, 238, 246),
}  # fmt: skip
WATER: RGB = (30, 95, 160)


def ridge(rng: Rng, w: int, h: int, base: float, amp: float, peaks: int) -> list[Point]:
    """A mountain or hill line across the picture, closed along the bottom edge."""
    xs = np.linspace(-0.05 * w, 1.05 * w, peaks * 2 + 1)
    heights = np.where(np.arange(xs.size) % 2 == 1, rng.uniform(0.55, 1.0, xs.size), 0.2)
    ys = base - amp * heights * rng.uniform(0.8, 1.0, xs.size)
    return [*zip(xs.tolist(), ys.tolist(), strict=True), (1.05 * w, h), (-0.05 * w, h)]


def hills(rng: Rng, w: int, h: int, base: float, amp: float) -> list[Point]:
    """A gentle rolling ground line, closed along the bottom edge."""
    xs = np.linspace(-0.02 * w, 1.02 * w, 48)
    phase = rng.uniform(0, 6.28, 2)
    wave = np.sin(xs / w * 3.1 + phase[0]) * 0.6 + np.sin(xs / w * 7.3 + phase[1]) * 0.4
    return [*zip(xs.tolist(), (base - amp * wave).tolist(), strict=True), (1.02 * w, h), (0, h)]


def ground_colour(scene: Scene, place: str) -> RGB:
    """The colour of the ground, snowy in snow and tinted toward the palette."""
    colour = GROUND["snow"] if "snow" in scene.weather and place != "desert" else GROUND[place]
    return mix(colour, scene.palette[0], 0.18) if scene.palette else colour


@dataclass(frozen=True)
class Ground:
    """Where figures stand (`land`) and float (`water`), as (top, bottom) rows."""

    land: tuple[float, float]
    water: tuple[float, float] | None = None


def land(
    pen: Pen, scene: Scene, rng: Rng, w: int, h: int, horizon: int, light: float | None
) -> Ground:
    """Mountains, city, forest, dunes, water and the ground figures stand on."""
    places = set(scene.places)
    place = next((p for p in scene.places if p != "mountain"), "mountain")
    low = sky_colours(scene)[2]
    if place == "space":
        top = h * 0.8
        pen.ellipse(w / 2, top + w * 1.2, w * 1.5, w * 1.2, GROUND["space"])
        for _ in range(6):
            cx, cy, r = float(rng.uniform(0, w)), float(rng.uniform(top + 0.05 * h, h)), w * 0.03
            pen.ellipse(cx, cy, r, r * 0.35, mix(GROUND["space"], (0, 0, 0), 0.25))
        return Ground((top, h))
    if "mountain" in places:
        for depth, amp in ((0.0, 0.5), (0.03, 0.32)):
            rock = mix((120, 125, 145), low, 0.45 - depth * 8)  # the far range fades into haze
            pts = ridge(rng, w, h, horizon + depth * h, amp * horizon, int(rng.integers(3, 6)))
            pen.polygon(pts, rock)
            for i in range(1, len(pts) - 3, 2):
                (xl, yl), (xp, yp), (xr, yr) = pts[i - 1], pts[i], pts[i + 1]
                if yp < horizon - 0.3 * horizon:  # only the high peaks keep snow
                    # A cap a third of the way down both slopes, so it stays on the rock.
                    left = (xp + (xl - xp) * 0.3, yp + (yl - yp) * 0.3)
                    right = (xp + (xr - xp) * 0.3, yp + (yr - yp) * 0.3)
                    mid = (xp, yp + (yl - yp) * 0.18)
                    pen.polygon([left, (xp, yp), right, mid], (245, 247, 252))
    elif place not in ("sea", "beach"):
        far = mix(ground_colour(scene, place), low, 0.45)
        pen.polygon(hills(rng, w, h, horizon - 0.025 * h, 0.025 * h), far)
    if place == "city":
        _city(pen, scene, rng, w, h, horizon)
        _street(pen, scene, rng, w, h, horizon)
    elif place == "forest":
        for row, (count, tall) in enumerate(((22, 0.14), (14, 0.24))):
            colour = mix((30, 75, 45), low, 0.35 - 0.3 * row)
            for i in range(count):
                x = (i + float(rng.uniform(0, 1))) * w / count
                th, base = h * tall * float(rng.uniform(0.7, 1.0)), horizon + row * 0.02 * h
                pen.polygon([(x - 0.3 * th, base), (x + 0.3 * th, base), (x, base - th)], colour)
    elif place == "desert":
        for k, shade in enumerate(((235, 200, 140), (222, 180, 115), (240, 208, 150))):
            dunes = hills(rng, w, h, horizon + k * 0.08 * (h - horizon), 0.05 * h)
            pen.polygon(dunes, mix(shade, scene.palette[0], 0.2) if scene.palette else shade)
    elif place == "village":
        for _ in range(int(rng.integers(3, 6))):
            x, s = float(rng.uniform(0.05, 0.95)) * w, h * float(rng.uniform(0.05, 0.08))
            house(Body(pen, x, horizon + 0.01 * h, s, 1, rng), (235, 220, 190))
    water_colour = mix(WATER, scene.palette[-1], 0.2) if scene.palette else WATER
    water = next((p for p in scene.places if p in ("sea", "beach", "lake")), None)
    if water is not None:
        place = water
        bottom = {"sea": 0.82 * h, "beach": horizon + 0.38 * (h - horizon)}.get(
            place, horizon + 0.45 * (h - horizon)
        )
        pen.rect(0, horizon, w, bottom + 0.02 * h, water_colour)
        _waves(pen, rng, w, h, horizon, bottom, water_colour, light)
        shore = hills(rng, w, h, bottom, 0.012 * h)
        pen.polygon(shore, ground_colour(scene, place))
        if place == "beach":
            pen.line(shore[:-2], (245, 248, 250), 0.007 * h)
        return Ground((bottom, h), (horizon, bottom))
    if place not in ("desert",):
        pen.polygon(hills(rng, w, h, horizon + 0.01 * h, 0.01 * h), ground_colour(scene, place))
    return Ground((horizon, h))


def _lamps(scene: Scene) -> tuple[RGB, RGB]:
    """Window and street-light colours: warm, or magenta and cyan in a neon city."""
    if "cyberpunk" in scene.styles or "neon" in scene.flags:
        return (255, 60, 200), (0, 230, 255)
    return (255, 210, 110), (255, 235, 170)


def _city(pen: Pen, scene: Scene, rng: Rng, w: int, h: int, horizon: int) -> None:
    """A skyline of blocks along the horizon; at night some windows are lit."""
    lamps = _lamps(scene)
    body = mix((70, 80, 100), scene.palette[0] if scene.palette else (90, 100, 120), 0.2)
    x = -float(rng.uniform(0, 0.05)) * w
    while x < w:
        bw, bh = w * float(rng.uniform(0.05, 0.11)), horizon * float(rng.uniform(0.15, 0.55))
        shade = mix(body, (0, 0, 0), float(rng.uniform(0, 0.3)))
        pen.rect(x, horizon - bh, x + bw, horizon + 0.02 * h, shade)
        cols, rows = max(1, int(bw / (0.02 * w))), max(1, int(bh / (0.035 * h)))
        cw, ch = bw / cols, bh / rows
        lit = rng.random((rows, cols)) < (0.55 if pen.dark else 0.0)
        for r in range(rows):
            for c in range(cols):
                if lit[r, c] or not pen.dark:  # by day every window shows, unlit
                    colour = pick(rng, lamps) if lit[r, c] else (150, 170, 190)
                    wx, wy = x + (c + 0.3) * cw, horizon - bh + (r + 0.3) * ch
                    pen.rect(wx, wy, wx + 0.4 * cw, wy + 0.4 * ch, colour, lit=bool(lit[r, c]))
        x += bw + w * float(rng.uniform(0.0, 0.012))


def _street(pen: Pen, scene: Scene, rng: Rng, w: int, h: int, horizon: int) -> None:
    """A pavement, a road with a dashed centre line and, at night, lights mirrored in it."""
    pen.rect(0, horizon, w, horizon + 0.05 * h, (120, 118, 125))
    pen.rect(0, horizon + 0.05 * h, w, h, ground_colour(scene, "city"))
    mid = horizon + 0.05 * h + (h - horizon) * 0.45
    for k in range(8):
        x = (k + 0.25) * w / 8
        pen.rect(x, mid - 0.004 * h, x + w / 20, mid + 0.004 * h, (235, 225, 170))
    if pen.dark:
        lamps = _lamps(scene)
        for _ in range(24):
            x, top = float(rng.uniform(0, w)), horizon + 0.06 * h
            length = (h - top) * float(rng.uniform(0.2, 0.6))
            pen.line([(x, top), (x, top + length)], pick(rng, lamps), w / 160, lit=True, alpha=110)


def _waves(
    pen: Pen, rng: Rng, w: int, h: int, top: float, bottom: float, colour: RGB, light: float | None
) -> None:
    crest = mix(colour, (255, 255, 255), 0.3)
    for _ in range(int(w * (bottom - top) / 6000) + 8):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(top + 2, bottom))
        length = w * 0.02 * (1 + 3 * (y - top) / max(bottom - top, 1))
        pen.line([(x, y), (x + length, y)], crest, max(1.0, h / 500))
    if light is not None:  # the sun's or moon's path on the water
        for k in range(12):
            y = top + (k + 0.5) * (bottom - top) / 12
            half = w * (0.015 + 0.05 * k / 12) * float(rng.uniform(0.5, 1.0))
            glint = [(light - half, y), (light + half, y)]
            pen.line(glint, (255, 235, 190), max(1.0, h / 300), lit=True)
