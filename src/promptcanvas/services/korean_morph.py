"""Korean morphology: Kiwi (its model ships in the kiwipiepy-model wheel), loaded once.

Kiwi takes about two seconds and ~300 MB to load, so it is built on first use (or by
`warm_up()` at start) and shared; calls are serialised because one call takes well under
a millisecond. Without kiwipiepy, a small fallback splits words on the lexicon's own nouns.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from promptcanvas.services import korean_lexicon as lexicon

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}
_HANGUL = re.compile(r"[가-힣]")
_LATIN_TAGS = frozenset({"SL", "SN", "SH", "SW", "SO"})


@dataclass(frozen=True)
class Morpheme:
    """One morpheme: its form, its Sejong-style tag (no irregular suffix), its dictionary form."""

    form: str
    tag: str
    lemma: str
    start: int
    end: int


def has_hangul(text: str) -> bool:
    """Whether the text contains Korean syllables."""
    return bool(_HANGUL.search(text))


def _load() -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError:  # the fallback below still reads the lexicon's words
        log.warning("kiwipiepy is not installed; Korean is split on known words only")
        return None
    kiwi = Kiwi(load_typo_dict=False, load_multi_dict=False)
    # Only nouns Kiwi would split ("해질녘", "골든아워"): adding words it already knows
    # shifts its scores and breaks other words ("노는" read as the noun 노).
    split = [w for w in lexicon.user_words() if len(kiwi.tokenize(w)) > 1]
    for word in split:
        kiwi.add_user_word(word, "NNG", 0.0)
    return kiwi


def _kiwi() -> Any:
    if "kiwi" not in _STATE:
        _STATE["kiwi"] = _load()
    return _STATE["kiwi"]


def warm_up() -> bool:
    """Load the analyser now (it takes a few seconds); True when Kiwi is available."""
    with _LOCK:
        return _kiwi() is not None


def analyse(text: str) -> list[Morpheme]:
    """The morphemes of a text; runs of Latin letters and digits stay whole ("4k", "3D")."""
    with _LOCK:
        kiwi = _kiwi()
        if kiwi is None:
            return _fallback(text)
        tokens = kiwi.tokenize(text)
    out: list[Morpheme] = []
    for token in tokens:
        tag = token.tag.split("-")[0]
        start, end = token.start, token.start + token.len
        if tag in _LATIN_TAGS and out and out[-1].tag == "SL" and out[-1].end == start:
            prev = out.pop()
            out.append(Morpheme(text[prev.start : end], "SL", "", prev.start, end))
            continue
        if tag in _LATIN_TAGS:
            tag = "SL"
        form = text[start:end] if tag == "SL" else token.form
        lemma = getattr(token, "lemma", "") or form
        out.append(Morpheme(form, tag, lemma, start, end))
    return _reread(out)


def _reread(morphemes: list[Morpheme]) -> list[Morpheme]:
    """Kiwi reads "노는" (playing) as the noun 노 (oar) after some words; prompts mean playing."""
    out = list(morphemes)
    for i in range(len(out) - 1):
        m, nxt = out[i], out[i + 1]
        if (m.form, m.tag, nxt.form, nxt.tag) == ("노", "NNG", "는", "JX"):
            out[i] = Morpheme("놀", "VV", "놀다", m.start, m.end)
            out[i + 1] = Morpheme("는", "ETM", "는", nxt.start, nxt.end)
    return out


_PARTICLES = {
    "이": "JKS", "가": "JKS", "은": "JX", "는": "JX", "을": "JKO", "를": "JKO", "의": "JKG",
    "에": "JKB", "에서": "JKB", "로": "JKB", "으로": "JKB", "와": "JC", "과": "JC", "도": "JX",
}  # fmt: skip


def _fallback(text: str) -> list[Morpheme]:
    """Known nouns at the start of each word, then a particle; other Korean words as unknown."""
    out: list[Morpheme] = []
    for match in re.finditer(r"\S+", text):
        word, start = match.group(), match.start()
        if not has_hangul(word):
            out.append(Morpheme(word, "SL", word, start, match.end()))
            continue
        for size in range(len(word), 0, -1):
            stem = word[:size]
            if lexicon.noun(stem) is not None or lexicon.predicate(stem + "다") is not None:
                break
        else:
            out.append(Morpheme(word, "NNG", word, start, match.end()))
            continue
        rest = word[size:]
        if lexicon.noun(stem) is not None:
            out.append(Morpheme(stem, "NNG", stem, start, start + size))
            if rest in _PARTICLES:
                out.append(Morpheme(rest, _PARTICLES[rest], rest, start + size, match.end()))
        else:
            tag = "VA" if lexicon.predicate(stem + "다") or not rest else "VV"
            out.append(Morpheme(stem, tag, stem + "다", start, start + size))
            out.append(Morpheme(rest or "ᆫ", "ETM", rest, start + size, match.end()))
    return out


_INITIALS = [
    "g",
    "kk",
    "n",
    "d",
    "tt",
    "r",
    "m",
    "b",
    "pp",
    "s",
    "ss",
    "-",
    "j",
    "jj",
    "ch",
    "k",
    "t",
    "p",
    "h",
]
_VOWELS = [
    "a",
    "ae",
    "ya",
    "yae",
    "eo",
    "e",
    "yeo",
    "ye",
    "o",
    "wa",
    "wae",
    "oe",
    "yo",
    "u",
    "wo",
    "we",
    "wi",
    "yu",
    "eu",
    "ui",
    "i",
]
_FINALS = [
    "-",
    "k",
    "k",
    "k",
    "n",
    "n",
    "n",
    "t",
    "l",
    "k",
    "m",
    "l",
    "l",
    "l",
    "p",
    "l",
    "m",
    "p",
    "p",
    "t",
    "t",
    "ng",
    "t",
    "t",
    "k",
    "t",
    "p",
    "t",
]


def romanise(korean: str) -> str:
    """Revised Romanization, syllable by syllable (no sound-change rules): 제주 -> jeju."""
    out: list[str] = []
    for char in korean:
        code = ord(char) - 0xAC00
        if not 0 <= code < 11172:
            out.append(char)
            continue
        initial, vowel, final = code // 588, (code % 588) // 28, code % 28
        out.append(_INITIALS[initial].strip("-") + _VOWELS[vowel] + _FINALS[final].strip("-"))
    return "".join(out)
