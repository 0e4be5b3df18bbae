"""The local prompt writer: a concept in Korean or English, written out as an English image prompt.

A template, not a language model: it knows the shared vocabulary and nothing else. Words it
does not know are kept when they are English (they may be the point: "axolotl") and dropped
when they are Korean (it cannot translate them).
"""

from __future__ import annotations

import random

from promptcanvas.adapters.providers import vocab

LIGHT_FOR_TIME = {
    "night": "soft moonlight",
    "sunset": "warm golden backlight",
    "morning": "soft morning light",
    "noon": "bright natural daylight",
    "golden hour": "warm golden-hour light",
    "twilight": "cool blue twilight glow",
}
STYLE_DETAIL = {
    "watercolor": "soft washes of colour on textured paper",
    "pixel art": "crisp pixels, limited palette",
    "oil painting": "visible brush strokes, rich impasto",
    "sketch": "graphite shading, clean lines",
    "cyberpunk": "neon reflections, rain-slick streets",
    "anime": "cel shading, clean line art",
    "photo": "35mm photograph, natural colours",
    "cinematic": "anamorphic lens, film grain",
    "flat": "bold shapes, flat colours",
    "ink": "expressive brush strokes on rice paper",
}
FRAMING = ("balanced composition", "rule of thirds composition", "wide establishing shot")
QUALITY = (
    "highly detailed", "beautiful composition", "masterpiece", "sharp focus", "intricate details",
    "professional", "award-winning", "rich colours",
)  # fmt: skip
_COLOUR_FLAGS = {"neon": "neon colour palette", "pastel": "soft pastel colours"}


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def write(concept: str, seed: int) -> str:
    """An English image prompt for the concept: subject, setting, light, style, quality."""
    reading = vocab.read(concept)
    rng = random.Random(seed)  # a private generator: the same concept and seed, the same prompt
    english = [w for w in reading.unknown if w.isascii()]
    subjects = [c.phrase for c in reading.of(vocab.SUBJECT)]
    head = _and(subjects) or " ".join(english) or "a quiet landscape"
    if subjects and english:
        head += " (" + " ".join(english) + ")"
    actions = reading.of(vocab.ACTION)
    places = reading.of(vocab.PLACE)
    times = reading.of(vocab.TIME)
    if actions:
        head += " " + _and([c.phrase for c in actions])
    if places:
        head += " " + places[0].phrase
        if len(places) > 1:
            head += " with " + _and([c.name for c in places[1:]])
    if times:
        head += " " + times[0].phrase
    parts = [head[0].upper() + head[1:]]
    parts += [c.phrase for c in reading.of(vocab.WEATHER)]
    colours = reading.of(vocab.COLOUR)
    plain = [c.phrase for c in colours if c.name not in _COLOUR_FLAGS and c.name != "monochrome"]
    if plain:
        parts.append(f"{_and(plain)} colour scheme")
    parts += [_COLOUR_FLAGS[c.name] for c in colours if c.name in _COLOUR_FLAGS]
    if any(c.name == "monochrome" for c in colours):
        parts.append("black and white")
    parts += [c.phrase for c in reading.of(vocab.MOOD)]
    lights = [c.phrase for c in reading.of(vocab.LIGHTING)]
    if not lights:
        time = times[0].name if times else None
        lights = [LIGHT_FOR_TIME.get(time or "", "soft natural light")]
    parts += lights
    styles = reading.of(vocab.STYLE)
    for style in styles:
        parts += [style.phrase, STYLE_DETAIL[style.name]]
    if not styles:
        parts.append("digital painting")
    cameras = [c.phrase for c in reading.of(vocab.CAMERA)]
    parts += cameras or [rng.choice(FRAMING)]
    parts += rng.sample(QUALITY, 3)
    return ", ".join(dict.fromkeys(p for p in parts if p))
