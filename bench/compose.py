"""Seeded writers of image prompts in Korean, English and a mix of both."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from bench import vocab as v


class Pick:
    """Zipf-weighted choice from a list: early entries are common, late ones rare."""

    def __init__(self, items: Sequence[str], exponent: float = 1.0) -> None:
        self.items = list(items)
        weights = [1 / (i + 1) ** exponent for i in range(len(self.items))]
        self.cum = list(itertools.accumulate(weights))

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.cum)[0]

    def some(self, rng: random.Random, low: int, high: int) -> list[str]:
        """Between low and high distinct entries."""
        count = rng.randint(low, high)
        chosen: list[str] = []
        for _ in range(count * 3):
            item = self(rng)
            if item not in chosen:
                chosen.append(item)
            if len(chosen) == count:
                break
        return chosen


def _batchim(word: str) -> bool:
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def _josa(word: str, with_final: str, without: str) -> str:
    return word + (with_final if _batchim(word) else without)


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


class Composer:
    """Writes prompt text, negative text, tags and categories from the vocabularies."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ko_subject = Pick(v.KO_SUBJECTS)
        self.ko_place = Pick(v.KO_PLACES)
        self.ko_adj = Pick(v.KO_ADJECTIVES, 0.8)
        self.ko_action = Pick(v.KO_ACTIONS, 0.8)
        self.ko_time = Pick(v.KO_TIMES, 0.8)
        self.ko_weather = Pick(v.KO_WEATHER, 0.8)
        self.ko_media = Pick(v.KO_MEDIA)
        self.ko_light = Pick(v.KO_LIGHT, 0.8)
        self.ko_colour = Pick(v.KO_COLOURS, 0.8)
        self.ko_mood = Pick(v.KO_MOODS, 0.8)
        self.ko_style = Pick(v.KO_STYLES, 0.8)
        self.ko_extra = Pick(v.KO_EXTRAS, 0.6)
        self.en_subject = Pick(v.EN_SUBJECTS)
        self.en_adj = Pick(v.EN_ADJECTIVES, 0.8)
        self.en_shot = Pick(v.EN_SHOTS, 0.9)
        self.en_action = Pick(v.EN_ACTIONS, 0.8)
        self.en_place = Pick(v.EN_PLACES, 0.9)
        self.en_light = Pick(v.EN_LIGHTING, 0.8)
        self.en_colour = Pick(v.EN_COLOURS, 0.8)
        self.en_mood = Pick(v.EN_MOODS, 0.8)
        self.en_style = Pick(v.EN_STYLES)
        self.en_camera = Pick(v.EN_CAMERA, 0.8)
        self.en_extra = Pick(v.EN_EXTRAS, 0.6)
        self.negative_pick = Pick(v.NEGATIVES, 0.7)
        self.tag_pick = Pick(v.TAGS, 1.1)
        self.category_pick = Pick(v.CATEGORIES, 0.9)

    def text(self) -> str:
        """A prompt: about 45% Korean, 40% English, 15% mixed; one in twenty is long."""
        roll = self.rng.random()
        if roll < 0.45:
            write = self.korean
        elif roll < 0.85:
            write = self.english
        else:
            write = self.mixed
        text = write()
        if self.rng.random() < 0.05:
            more = [write() for _ in range(self.rng.randint(3, 10))]
            text = "\n".join([text, *more])
        return text

    def korean(self) -> str:
        """Korean sentence-like prompt, with particles attached as people write them."""
        r = self.rng
        subject, place = self.ko_subject(r), self.ko_place(r)
        form = r.randrange(4)
        if form == 0:
            text = (
                f"{self.ko_adj(r)} {_josa(subject, '이', '가')} {self.ko_action(r)} "
                f"{self.ko_light(r)} {self.ko_media(r)}"
            )
        elif form == 1:
            text = f"{self.ko_weather(r)} {place} {self.ko_media(r)}"
        elif form == 2:
            text = (
                f"{self.ko_time(r)}의 {place}에서 {self.ko_action(r)} {self.ko_adj(r)} {subject}, "
                f"{self.ko_style(r)}, {self.ko_colour(r)} 색감, {self.ko_mood(r)} 분위기"
            )
        else:
            text = (
                f"{_josa(place, '을', '를')} 배경으로 한 {_josa(subject, '과', '와')} "
                f"{self.ko_subject(r)}, {self.ko_light(r)}, {self.ko_media(r)}"
            )
        if r.random() < 0.6:
            text += ", " + ", ".join(self.ko_extra.some(r, 1, 4))
        return text

    def english(self) -> str:
        """Comma-separated English prompt in the usual image-model shape."""
        r = self.rng
        subject = self.en_subject(r)
        form = r.randrange(3)
        if form == 0:
            adj = f"{self.en_adj(r)} " if r.random() < 0.6 else ""
            text = (
                f"{self.en_shot(r)} of {_article(adj + subject)}, {self.en_place(r)}, "
                f"{self.en_light(r)}, {self.en_camera(r)}"
            )
        elif form == 1:
            text = (
                f"{_article(self.en_adj(r) + ' ' + subject)} {self.en_action(r)} "
                f"{self.en_place(r)}, {self.en_style(r)}, {self.en_colour(r)} palette, "
                f"{self.en_mood(r)} mood"
            )
        else:
            text = (
                f"{self.en_style(r)} illustration of {_article(subject)} and "
                f"{_article(self.en_subject(r))} {self.en_place(r)}, {self.en_light(r)}, "
                f"{self.en_mood(r)}"
            )
        if r.random() < 0.7:
            extras = self.en_extra.some(r, 1, 4) + self.en_camera.some(r, 0, 2)
            text += ", " + ", ".join(extras)
        return text

    def mixed(self) -> str:
        """Korean subject with English style words, or the other way round."""
        r = self.rng
        form = r.randrange(3)
        if form == 0:
            return (
                f"{self.ko_adj(r)} {self.ko_subject(r)}, {self.en_style(r)}, "
                f"{self.en_light(r)}, {self.en_camera(r)}"
            )
        if form == 1:
            return (
                f"{self.en_shot(r)} of {_article(self.en_subject(r))}, {self.ko_place(r)}에서, "
                f"{self.ko_mood(r)} 분위기, {', '.join(self.en_extra.some(r, 1, 3))}"
            )
        return f"{self.korean()}, {', '.join(self.en_extra.some(r, 1, 3))}, {self.en_camera(r)}"

    def negative(self) -> str:
        """Negative prompt: empty for a third of prompts."""
        if self.rng.random() < 0.35:
            return ""
        return ", ".join(self.negative_pick.some(self.rng, 2, 7))

    def tags(self) -> list[str]:
        """Zero to six tags."""
        return self.tag_pick.some(self.rng, 0, 6)

    def category(self) -> str | None:
        """A category for nine prompts in ten."""
        return self.category_pick(self.rng) if self.rng.random() < 0.9 else None

    def variation(self, text: str) -> str:
        """A revision's wording: the parent's text with one more detail."""
        r = self.rng
        extra = self.ko_extra(r) if r.random() < 0.5 else self.en_extra(r)
        return f"{text}, {extra}"
