"""What a prompt asks the local renderer to draw, read through the shared vocabulary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from promptcanvas.adapters.providers import vocab
from promptcanvas.adapters.providers.pen import RGB


@dataclass(frozen=True)
class Scene:
    """What the prompt (less its negative prompt) asks for, in the renderer's terms."""

    words: tuple[str, ...]  # the vocabulary matched, canonical English
    time: str
    places: tuple[str, ...]
    subjects: tuple[str, ...]  # figure names, the main one first
    celestial: frozenset[str]  # sun, moon, stars asked for
    palette: tuple[RGB, ...]
    suppress: tuple[RGB, ...]  # colours of the negative prompt
    weather: frozenset[str]
    moods: frozenset[str]
    styles: frozenset[str]
    lights: frozenset[str]
    camera: frozenset[str]
    flags: frozenset[str]  # neon, pastel, monochrome


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (Python's own hash() is salted)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _hashed_palette(words: tuple[str, ...]) -> tuple[RGB, ...]:
    """Two harmonious colours from words the vocabulary does not know."""
    hue = (stable_hash(" ".join(words)) % 360) / 360.0
    out = []
    for shift, sat, val in ((0.0, 0.55, 0.85), (0.09, 0.45, 0.95)):
        h6 = ((hue + shift) % 1.0) * 6
        i, f = int(h6), h6 - int(h6)
        p, q, t = val * (1 - sat), val * (1 - sat * f), val * (1 - sat * (1 - f))
        r, g, b = ((val, t, p), (q, val, p), (p, val, t), (p, q, val), (t, p, val), (val, p, q))[i]
        out.append((round(r * 255), round(g * 255), round(b * 255)))
    return tuple(out)


def plan(prompt: str, negative: str = "", style: str | None = None) -> Scene:
    """Read the prompt and negative prompt into a Scene."""
    reading, against = vocab.read(prompt), vocab.read(negative)
    banned = {c.name for c in against.concepts}
    kept = [c for c in reading.concepts if c.name not in banned]

    def names(category: str) -> list[str]:
        return [c.name for c in kept if c.category == category]

    colours = [c for c in kept if c.category == vocab.COLOUR]
    flags = {c.name for c in colours if c.name in ("neon", "pastel", "monochrome")}
    palette = [c.rgb for c in colours if c.rgb is not None and c.name not in flags]
    if "neon" in flags:
        palette += [(255, 40, 200), (0, 230, 255)]
    if not palette and reading.unknown and not reading.concepts:
        # Nothing the vocabulary knows: let the words themselves pick the colours.
        palette = list(_hashed_palette(reading.unknown))
    suppress = [
        c.rgb
        for c in against.concepts
        if c.category == vocab.COLOUR and c.rgb and c.name not in ("pastel", "monochrome")
    ]
    styles = {style} if style else set(names(vocab.STYLE))
    figures = [c.figure for c in kept if c.category == vocab.SUBJECT]
    celestial = frozenset(f for f in figures if f in ("sun", "moon", "stars"))
    subjects = tuple(dict.fromkeys(f for f in figures if f not in celestial))
    places = names(vocab.PLACE)
    if "space" in places:
        places = ["space"]
    elif "cyberpunk" in styles and not places:
        places = ["city"]
    if {"boat", "fish"} & set(subjects) and not {"sea", "beach", "lake"} & set(places):
        places.append("sea")
    lights = set(names(vocab.LIGHTING))
    time = next(iter(names(vocab.TIME)), None)
    if time is None:
        if "space" in places:
            time = "space"
        elif "moonlight" in lights or {"moon", "stars"} & celestial or "cyberpunk" in styles:
            time = "night"
        elif "sunlight" in lights or "sun" in celestial:
            time = "noon"
        elif "mysterious" in names(vocab.MOOD):
            time = "twilight"
        else:
            options = [t for t in ("noon", "morning", "golden hour", "sunset") if t not in banned]
            words = reading.unknown
            time = options[stable_hash(" ".join(words)) % len(options)] if words else options[0]
    return Scene(
        words=tuple(c.name for c in kept),
        time=time,
        places=tuple(places) or ("meadow",),
        subjects=subjects,
        celestial=celestial,
        palette=tuple(palette),
        suppress=tuple(suppress),
        weather=frozenset(names(vocab.WEATHER)),
        moods=frozenset(names(vocab.MOOD)),
        styles=frozenset(styles),
        lights=frozenset(lights),
        camera=frozenset(names(vocab.CAMERA)),
        flags=frozenset(flags),
    )
