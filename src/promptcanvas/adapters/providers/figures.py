"""Subjects the local renderer draws: cats, dogs, people, trees, houses... as flat shapes.

A figure stands with its foot at (x, y) and is about `s` pixels tall; flying and swimming
figures are centred on (x, y). Shapes are given in figure heights, right and up from the foot,
and mirrored when the figure faces left.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from promptcanvas.adapters.providers.pen import RGB, Body, Point, mix, pick

DARK: RGB = (20, 20, 24)
LAMP: RGB = (255, 210, 110)


Figure = Callable[[Body, RGB], None]


def cat(b: Body, c: RGB) -> None:
    """A cat sitting, seen from the front, tail curled to one side."""
    eye = pick(b.rng, ((170, 220, 60), (240, 200, 60), (90, 180, 230)))
    b.stroke([(0, 0.06), (0.3, 0.08), (0.36, 0.38)], c, 0.07)
    b.oval(0, 0.28, 0.22, 0.28, c)
    for side in (-1, 1):
        b.poly([(side * 0.17, 0.7), (side * 0.13, 0.93), (side * 0.02, 0.8)], c)
    b.oval(0, 0.68, 0.18, 0.16, c)
    for side in (-1, 1):
        b.oval(side * 0.075, 0.7, 0.035, 0.045, eye, lit=True)
        b.oval(side * 0.075, 0.7, 0.01, 0.035, DARK)
    b.poly([(-0.025, 0.63), (0.025, 0.63), (0, 0.6)], (230, 130, 140))


def _quadruped(b: Body, c: RGB, length: float, leg: float) -> Point:
    """Legs, body and neck of a side-on animal; returns where its head goes (unit point)."""
    for dx in (-0.24, -0.14, 0.14, 0.24):
        b.box(dx * length - 0.035, leg, dx * length + 0.035, 0, mix(c, DARK, 0.15))
    b.oval(0, leg + 0.05, 0.33 * length, 0.15, c)
    hx, hy = 0.33 * length, leg + 0.28
    b.poly([(0.18 * length, leg), (0.32 * length, leg + 0.12), (hx, hy), (hx - 0.1, hy - 0.05)], c)
    return hx, hy


def dog(b: Body, c: RGB) -> None:
    """A dog standing side-on, tail up."""
    b.stroke([(-0.3, 0.5), (-0.42, 0.72)], c, 0.05)
    hx, hy = _quadruped(b, c, 1.0, 0.4)
    b.oval(hx, hy, 0.13, 0.12, c)
    b.oval(hx + 0.12, hy - 0.04, 0.08, 0.055, c)
    b.oval(hx + 0.19, hy - 0.02, 0.025, 0.022, DARK)
    b.oval(hx - 0.05, hy - 0.05, 0.045, 0.1, mix(c, (40, 25, 15), 0.45))
    b.oval(hx + 0.04, hy + 0.03, 0.018, 0.018, DARK)


def fox(b: Body, c: RGB) -> None:
    """A fox with pointed ears and a white-tipped brush of a tail."""
    b.oval(-0.45, 0.42, 0.16, 0.07, c)
    b.oval(-0.57, 0.42, 0.05, 0.045, (245, 245, 240))
    hx, hy = _quadruped(b, c, 0.9, 0.32)
    for dx in (-0.07, 0.05):
        b.poly([(hx + dx - 0.04, hy + 0.05), (hx + dx, hy + 0.2), (hx + dx + 0.04, hy + 0.05)], c)
    b.oval(hx, hy, 0.11, 0.1, c)
    b.poly([(hx, hy + 0.04), (hx + 0.22, hy - 0.05), (hx, hy - 0.09)], mix(c, (255, 255, 255), 0.5))
    b.oval(hx + 0.03, hy + 0.02, 0.016, 0.016, DARK)


def horse(b: Body, c: RGB) -> None:
    """A horse side-on, with mane and tail."""
    dark = mix(c, DARK, 0.6)
    b.stroke([(-0.38, 0.55), (-0.45, 0.3)], dark, 0.06)
    hx, hy = _quadruped(b, c, 1.1, 0.45)
    b.stroke([(hx - 0.2, hy - 0.25), (hx - 0.05, hy)], dark, 0.05)
    b.poly(
        [
            (hx - 0.05, hy + 0.06),
            (hx + 0.22, hy - 0.08),
            (hx + 0.2, hy - 0.15),
            (hx - 0.06, hy - 0.08),
        ],
        c,
    )
    b.poly([(hx - 0.02, hy + 0.05), (hx, hy + 0.14), (hx + 0.04, hy + 0.04)], c)
    b.oval(hx + 0.05, hy - 0.01, 0.016, 0.016, DARK)


def rabbit(b: Body, c: RGB) -> None:
    """A rabbit sitting up, long ears raised."""
    b.oval(-0.2, 0.15, 0.07, 0.07, (250, 250, 250))
    b.oval(0, 0.25, 0.22, 0.25, c)
    for dx in (0.05, 0.16):
        b.oval(dx, 0.83, 0.045, 0.17, c)
        b.oval(dx, 0.83, 0.02, 0.12, (240, 170, 180))
    b.oval(0.1, 0.58, 0.14, 0.13, c)
    b.oval(0.16, 0.6, 0.02, 0.025, DARK)


SKIN = ((245, 210, 180), (225, 180, 140), (180, 130, 95), (120, 80, 55))
HAIR = ((40, 30, 25), (110, 70, 40), (220, 190, 120))


def person(b: Body, c: RGB) -> None:
    """A standing figure: legs, shirt, arms, head and hair."""
    skin, hair = pick(b.rng, SKIN), pick(b.rng, HAIR)
    for side in (-1, 1):
        b.box(side * 0.065 - 0.035, 0.46, side * 0.065 + 0.035, 0, (60, 60, 85))
        b.stroke([(side * 0.12, 0.78), (side * 0.19, 0.5)], skin, 0.05)
    b.poly([(-0.15, 0.42), (0.15, 0.42), (0.12, 0.8), (-0.12, 0.8)], c)
    b.oval(-0.01, 0.92, 0.12, 0.1, hair)
    b.oval(0, 0.9, 0.1, 0.11, skin)
    b.oval(0, 0.985, 0.09, 0.035, hair)
    for side in (-1, 1):
        b.oval(side * 0.035, 0.9, 0.012, 0.014, DARK)


def astronaut(b: Body, c: RGB) -> None:
    """A figure in a white suit and a helmet with a dark visor."""
    suit = (235, 235, 240)
    b.box(-0.22, 0.8, -0.1, 0.45, (170, 170, 180))
    person(b, suit)
    b.oval(0, 0.9, 0.14, 0.14, suit)
    b.oval(0.03, 0.9, 0.09, 0.07, (25, 35, 70), lit=True)
    b.oval(0.06, 0.93, 0.02, 0.015, (200, 220, 255), lit=True)
    b.box(-0.06, 0.7, 0.06, 0.62, c)


def robot(b: Body, c: RGB) -> None:
    """A boxy robot with glowing eyes and an antenna."""
    metal = mix(c, (160, 165, 175), 0.6)
    for side in (-1, 1):
        b.box(side * 0.1 - 0.045, 0.4, side * 0.1 + 0.045, 0, metal)
        b.stroke([(side * 0.2, 0.75), (side * 0.26, 0.45)], metal, 0.05)
    b.box(-0.2, 0.78, 0.2, 0.38, c)
    b.box(-0.14, 0.98, 0.14, 0.8, metal)
    b.stroke([(0, 0.98), (0, 1.08)], metal, 0.02)
    b.oval(0, 1.09, 0.025, 0.025, (255, 60, 60), lit=True)
    for side in (-1, 1):
        b.oval(side * 0.06, 0.9, 0.03, 0.03, (80, 230, 255), lit=True)


def tree(b: Body, c: RGB) -> None:
    """A round broadleaf tree or, one time in three, a pine."""
    b.box(-0.045, 0.45, 0.045, 0, (100, 70, 45))
    if b.rng.random() < 0.33:
        for i in range(3):
            half = 0.2 + 0.07 * i
            b.poly([(-half, 0.55 - 0.2 * i), (half, 0.55 - 0.2 * i), (0, 1.0 - 0.2 * i)], c)
        return
    for dx, dy, r in ((-0.17, 0.52, 0.2), (0.17, 0.54, 0.2), (0.0, 0.7, 0.27)):
        b.oval(dx, dy, r, r * 0.95, mix(c, (255, 255, 200), 0.1 * dy))


def flower(b: Body, c: RGB) -> None:
    """A stem, a leaf and five petals round a yellow heart."""
    green = (60, 140, 60)
    b.stroke([(0, 0), (0.05, 0.4), (0, 0.75)], green, 0.05)
    b.oval(0.1, 0.35, 0.1, 0.04, green)
    turn = float(b.rng.random()) * 6.28
    for k in range(5):
        a = turn + k * 1.2566
        b.oval(0.13 * math.cos(a), 0.75 + 0.13 * math.sin(a), 0.1, 0.1, c)
    b.oval(0, 0.75, 0.07, 0.07, (250, 205, 60))


def house(b: Body, c: RGB) -> None:
    """Walls, a pitched roof, a door, a chimney, and windows lit at night."""
    roof = pick(b.rng, ((170, 60, 50), (90, 70, 60), (60, 80, 120)))
    window = LAMP if b.pen.dark else (170, 210, 235)
    b.box(0.22, 0.95, 0.32, 0.6, (120, 90, 80))
    b.box(-0.4, 0.55, 0.4, 0, c)
    b.poly([(-0.5, 0.53), (0.5, 0.53), (0, 1.0)], roof)
    b.box(-0.27, 0.3, -0.13, 0, (110, 70, 45))
    for dx in (0.05, 0.24):
        b.box(dx, 0.4, dx + 0.12, 0.26, window, lit=True)


def castle(b: Body, c: RGB) -> None:
    """A keep between two towers with conical roofs and a gate."""
    roof = pick(b.rng, ((60, 70, 140), (150, 50, 60), (70, 110, 80)))
    for tx in (-0.33, 0.33):
        b.box(tx - 0.1, 0.75, tx + 0.1, 0, mix(c, DARK, 0.1))
        b.poly([(tx - 0.13, 0.75), (tx + 0.13, 0.75), (tx, 1.0)], roof)
    b.box(-0.25, 0.55, 0.25, 0, c)
    for k in range(5):
        b.box(-0.25 + k * 0.11, 0.61, -0.195 + k * 0.11, 0.55, c)
    b.oval(0, 0.2, 0.08, 0.08, (45, 35, 30))
    b.box(-0.08, 0.2, 0.08, 0, (45, 35, 30))


def tower(b: Body, c: RGB) -> None:
    """A tall tower with a pointed roof and one lit window."""
    b.box(-0.12, 0.82, 0.12, 0, c)
    b.poly([(-0.16, 0.82), (0.16, 0.82), (0, 1.0)], (90, 60, 110))
    b.box(-0.03, 0.65, 0.03, 0.55, LAMP, lit=True)


def lighthouse(b: Body, c: RGB) -> None:
    """A striped, tapering lighthouse with a lit lamp room."""
    for k in range(4):
        w0, w1 = 0.13 - 0.012 * k, 0.13 - 0.012 * (k + 1)
        band = c if k % 2 else (245, 245, 240)
        b.poly([(-w0, k * 0.18), (w0, k * 0.18), (w1, (k + 1) * 0.18), (-w1, (k + 1) * 0.18)], band)
    b.box(-0.07, 0.86, 0.07, 0.72, (255, 230, 140), lit=True)
    b.poly([(-0.1, 0.86), (0.1, 0.86), (0, 1.0)], (50, 50, 60))


def car(b: Body, c: RGB) -> None:
    """A small car side-on: body, cabin, windows, wheels and a headlight."""
    b.poly([(-0.3, 0.4), (-0.18, 0.66), (0.18, 0.66), (0.34, 0.4)], c)
    b.poly([(-0.24, 0.42), (-0.15, 0.61), (0.15, 0.61), (0.27, 0.42)], (170, 210, 235))
    b.box(-0.5, 0.42, 0.5, 0.12, c)
    b.box(0.46, 0.36, 0.5, 0.3, (255, 240, 170), lit=True)
    for dx in (-0.3, 0.3):
        b.oval(dx, 0.12, 0.12, 0.12, (25, 25, 30))
        b.oval(dx, 0.12, 0.05, 0.05, (170, 170, 175))


def boat(b: Body, c: RGB) -> None:
    """A sailing boat on the water line."""
    sail = (245, 242, 230)
    b.stroke([(0, 0.15), (0, 1.0)], (90, 70, 50), 0.025)
    b.poly([(0.03, 0.95), (0.03, 0.22), (0.42, 0.22)], sail)
    b.poly([(-0.03, 0.8), (-0.03, 0.22), (-0.3, 0.22)], mix(c, sail, 0.5))
    b.poly([(-0.5, 0.18), (0.5, 0.18), (0.36, 0), (-0.36, 0)], c)


def airplane(b: Body, c: RGB) -> None:
    """An airliner side-on, centred on its point."""
    b.poly([(-0.05, 0), (-0.2, -0.3), (-0.1, -0.3), (0.12, 0)], mix(c, DARK, 0.2))
    b.poly([(-0.4, 0), (-0.5, 0.25), (-0.42, 0.25), (-0.3, 0)], c)
    b.oval(0, 0, 0.5, 0.07, c)


def balloon(b: Body, c: RGB) -> None:
    """A striped hot-air balloon with its basket, centred on its point."""
    for side in (-1, 1):
        b.stroke([(side * 0.15, -0.2), (side * 0.06, -0.42)], (90, 70, 50), 0.015)
    b.box(-0.07, -0.42, 0.07, -0.52, (130, 90, 55))
    b.oval(0, 0, 0.28, 0.33, c)
    b.oval(0, 0, 0.13, 0.33, mix(c, (255, 250, 230), 0.55))
    b.oval(0, 0, 0.04, 0.33, c)


def bird(b: Body, c: RGB) -> None:
    """A bird in flight: two beating wings."""
    lift = 0.15 + 0.2 * float(b.rng.random())
    wings = [(-0.5, lift), (-0.2, 0.25), (0, 0), (0.2, 0.25), (0.5, lift)]
    b.pen.line([b.at(dx, dy) for dx, dy in wings], c, max(2.0, 0.07 * b.s))


def butterfly(b: Body, c: RGB) -> None:
    """Four wings round a dark body, centred on its point."""
    for side in (-1, 1):
        b.oval(side * 0.25, 0.15, 0.25, 0.2, c)
        b.oval(side * 0.18, -0.18, 0.16, 0.14, mix(c, (255, 255, 255), 0.3))
    b.stroke([(0, 0.3), (0, -0.3)], (30, 25, 25), 0.06)


def fish(b: Body, c: RGB) -> None:
    """A fish side-on, centred on its point."""
    b.poly([(-0.3, 0), (-0.55, 0.2), (-0.55, -0.2)], c)
    b.oval(0, 0, 0.4, 0.2, c)
    b.oval(0.25, 0.04, 0.04, 0.04, DARK)


def snowman(b: Body, c: RGB) -> None:
    """Three snowballs, coal eyes, a carrot nose and a hat."""
    for dy, r in ((0.2, 0.2), (0.52, 0.15), (0.77, 0.1)):
        b.oval(0, dy, r, r, (240, 244, 250))
    b.poly([(0, 0.78), (0.15, 0.76), (0, 0.74)], (240, 130, 40))
    for side in (-1, 1):
        b.oval(side * 0.04, 0.81, 0.015, 0.015, DARK)
    b.box(-0.12, 0.88, 0.12, 0.86, c)
    b.box(-0.07, 1.0, 0.07, 0.87, c)


FIGURES: dict[str, Figure] = {
    "cat": cat, "dog": dog, "fox": fox, "horse": horse, "rabbit": rabbit, "person": person,
    "astronaut": astronaut, "robot": robot, "tree": tree, "flower": flower, "house": house,
    "castle": castle, "tower": tower, "lighthouse": lighthouse, "car": car, "boat": boat,
    "airplane": airplane, "balloon": balloon, "bird": bird, "butterfly": butterfly, "fish": fish,
    "snowman": snowman,
}  # fmt: skip

# Natural colours, used when the prompt names none.
NATURAL: dict[str, tuple[RGB, ...]] = {
    "cat": ((225, 140, 60), (120, 120, 130), (40, 38, 42), (235, 232, 225)),
    "dog": ((210, 160, 90), (140, 90, 50), (235, 228, 215), (50, 42, 40)),
    "fox": ((225, 110, 40),),
    "horse": ((130, 80, 45), (60, 45, 35), (230, 225, 215)),
    "rabbit": ((240, 238, 232), (170, 140, 110), (120, 115, 110)),
    "person": ((200, 60, 60), (60, 100, 190), (240, 200, 70), (70, 150, 90), (240, 240, 235)),
    "astronaut": ((220, 80, 50), (60, 100, 190)),
    "robot": ((90, 120, 170), (200, 200, 210), (220, 120, 40)),
    "tree": ((70, 140, 60), (50, 115, 65), (120, 160, 70)),
    "flower": ((230, 70, 90), (250, 200, 60), (240, 140, 190), (150, 90, 210), (250, 250, 245)),
    "house": ((235, 220, 190), (200, 170, 140), (240, 240, 235)),
    "castle": ((190, 185, 175), (215, 205, 185)),
    "tower": ((190, 180, 170),),
    "lighthouse": ((200, 40, 40),),
    "car": ((200, 40, 40), (40, 90, 200), (240, 240, 240), (40, 40, 45), (240, 200, 40)),
    "boat": ((150, 90, 50), (240, 240, 240), (40, 70, 140)),
    "airplane": ((240, 240, 245),),
    "balloon": ((230, 70, 60), (250, 190, 50), (60, 140, 220), (150, 80, 200)),
    "bird": ((40, 40, 50), (245, 245, 245)),
    "butterfly": ((250, 160, 40), (90, 150, 240), (240, 110, 180)),
    "fish": ((250, 140, 40), (90, 140, 220), (150, 160, 175)),
    "snowman": ((30, 30, 35), (190, 40, 40)),
}
