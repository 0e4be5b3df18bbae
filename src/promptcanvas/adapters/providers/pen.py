"""Drawing flat shapes for the local renderer: a colour layer with its coverage mask."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
Point = tuple[float, float]
Rng = np.random.Generator


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """a blended toward b by t."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def pick(rng: Rng, options: Sequence[RGB]) -> RGB:
    """One of the options, chosen by the seed."""
    return options[int(rng.integers(len(options)))]


class Pen:
    """Flat shapes drawn into a colour layer and its coverage mask at once.

    Colours are dimmed by `ambient` (night, dusk) unless drawn `lit` (lamps, windows, eyes).
    """

    def __init__(self, size: tuple[int, int], ambient: tuple[float, float, float]) -> None:
        self.ink = Image.new("RGB", size)
        self.mask = Image.new("L", size)
        self.ambient = ambient
        self._ink = ImageDraw.Draw(self.ink)
        self._mask = ImageDraw.Draw(self.mask)

    @property
    def dark(self) -> bool:
        """True at night, when windows and lamps are lit."""
        return sum(self.ambient) < 2.2

    def _colour(self, rgb: RGB, lit: bool) -> RGB:
        if lit:
            return rgb
        r, g, b = self.ambient
        return (int(rgb[0] * r), int(rgb[1] * g), int(rgb[2] * b))

    def ellipse(
        self, cx: float, cy: float, rx: float, ry: float, rgb: RGB, lit: bool = False
    ) -> None:
        """An ellipse centred on (cx, cy)."""
        box = (cx - rx, cy - ry, cx + max(rx, 0.5), cy + max(ry, 0.5))
        self._ink.ellipse(box, fill=self._colour(rgb, lit))
        self._mask.ellipse(box, fill=255)

    def polygon(self, points: Sequence[Point], rgb: RGB, lit: bool = False) -> None:
        """A filled polygon."""
        self._ink.polygon(list(points), fill=self._colour(rgb, lit))
        self._mask.polygon(list(points), fill=255)

    def rect(self, x0: float, y0: float, x1: float, y1: float, rgb: RGB, lit: bool = False) -> None:
        """A filled rectangle between two corners."""
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        self._ink.rectangle(box, fill=self._colour(rgb, lit))
        self._mask.rectangle(box, fill=255)

    def line(
        self, points: Sequence[Point], rgb: RGB, width: float, lit: bool = False, alpha: int = 255
    ) -> None:
        """A polyline `width` pixels wide."""
        w = max(1, round(width))
        self._ink.line(list(points), fill=self._colour(rgb, lit), width=w, joint="curve")
        self._mask.line(list(points), fill=alpha, width=w, joint="curve")


class Body:
    """One figure's frame: draws with the pen in figure heights from the figure's foot."""

    def __init__(self, pen: Pen, x: float, y: float, s: float, f: int, rng: Rng) -> None:
        self.pen, self.x, self.y, self.s, self.f, self.rng = pen, x, y, s, f, rng

    def at(self, dx: float, dy: float) -> Point:
        """The pixel dx to the front and dy up from the foot."""
        return (self.x + self.f * dx * self.s, self.y - dy * self.s)

    def oval(self, dx: float, dy: float, rx: float, ry: float, c: RGB, lit: bool = False) -> None:
        """An ellipse centred dx forward and dy up."""
        self.pen.ellipse(*self.at(dx, dy), rx * self.s, ry * self.s, c, lit)

    def poly(self, points: Sequence[Point], c: RGB, lit: bool = False) -> None:
        """A polygon through unit points."""
        self.pen.polygon([self.at(dx, dy) for dx, dy in points], c, lit)

    def box(
        self, dx0: float, dy0: float, dx1: float, dy1: float, c: RGB, lit: bool = False
    ) -> None:
        """A rectangle between two unit corners."""
        self.pen.rect(*self.at(dx0, dy0), *self.at(dx1, dy1), c, lit)

    def stroke(self, points: Sequence[Point], c: RGB, width: float) -> None:
        """A polyline `width` figure heights wide."""
        self.pen.line([self.at(dx, dy) for dx, dy in points], c, width * self.s)
