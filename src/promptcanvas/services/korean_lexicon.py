"""Look-ups over the Korean word tables, and the bits of English grammar the translator needs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from promptcanvas.services import korean_nouns as nouns
from promptcanvas.services import korean_words as words

# Per category: article ("a", "the" or none), preposition as a place/time, as a genitive.
_DEFAULTS = {
    "S": ("a", "on", "of"),
    "P": ("a", "in", ""),
    "T": ("", "at", ""),
    "W": ("", "in", ""),
    "Y": ("", "in", ""),
    "L": ("", "in", ""),
    "C": ("", "in", ""),
    "M": ("a", "with", ""),
    "K": ("", "in", ""),
}
_IRREGULAR = {
    "person": "people", "man": "men", "woman": "women", "child": "children", "mouse": "mice",
    "wolf": "wolves", "leaf": "leaves", "knife": "knives", "goose": "geese", "tooth": "teeth",
    "foot": "feet", "fish": "fish", "deer": "deer", "sheep": "sheep", "elf": "elves",
}  # fmt: skip


@dataclass(frozen=True)
class Noun:
    """A Korean noun in English: its words, article, and prepositions."""

    english: str
    category: str
    article: str  # "a", "the" or "" (mass nouns, plurals, names)
    place_prep: str  # "on a bench", "at night"
    of_prep: str  # as a genitive: "battle of ...", "cabin in the forest"; "-": before the noun
    plural: bool = False
    proper: bool = False


@dataclass(frozen=True)
class Predicate:
    """A Korean verb or adjective in English."""

    english: str  # participle or adjective; "{}" marks the subject's place
    adjective: bool
    past: str = ""  # past participle, said of the thing acted on ("drawn")
    object_prep: str | None = None  # None: not transitive; "": direct object

    @property
    def slot(self) -> bool:
        """Whether the subject goes inside the phrase ("covered with {}")."""
        return "{}" in self.english


def _english(raw: str) -> str:
    return raw.replace("_", " ")


@cache
def _nouns() -> dict[str, Noun]:
    table: dict[str, Noun] = {}
    for category, block in nouns.NOUNS.items():
        article, place, of = _DEFAULTS[category]
        for entry in block.split():
            korean, _, rest = entry.partition("=")
            rest, _, prep = rest.partition("@")
            english, _, flags = rest.partition("/")
            art = "the" if "t" in flags else "a" if "a" in flags else article
            art = "" if set(flags) & set("upn") else art
            genitive = "with" if "w" in flags else "-" if category in "YK" or "m" in flags else of
            place_prep = _english(prep) if prep else place
            table.setdefault(
                korean,
                Noun(
                    english=_english(english),
                    category=category,
                    article=art,
                    place_prep=place_prep,
                    of_prep=genitive or place_prep,
                    plural="p" in flags,
                    proper="n" in flags,
                ),
            )
    return table


@cache
def _predicates() -> dict[str, Predicate]:
    table: dict[str, Predicate] = {}
    for entry in words.VERBS.split():
        korean, _, rest = entry.partition("=")
        rest, has_prep, prep = rest.partition(">")
        english, _, past = rest.partition("|")
        obj = _english(prep) if has_prep else ("" if past else None)
        table[korean] = Predicate(_english(english), False, _english(past), obj)
    for entry in words.ADJECTIVES.split():
        korean, _, english = entry.partition("=")
        table[korean] = Predicate(_english(english), True)
    return table


@cache
def _idioms() -> dict[tuple[str, str], Predicate]:
    table: dict[tuple[str, str], Predicate] = {}
    for entry in words.IDIOMS.split():
        key, _, rest = entry.partition("=")
        noun, _, verb = key.partition("+")
        english, _, flags = rest.partition("/")
        table[(noun, verb)] = Predicate(_english(english), "a" in flags)
    return table


@cache
def _adverbs() -> dict[str, str]:
    return {k: _english(v) for k, _, v in (e.partition("=") for e in words.ADVERBS.split())}


EYES = Noun("eyes", "S", "", "on", "with", plural=True)
_COLOURS = frozenset(
    [
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "navy",
        "purple",
        "violet",
        "pink",
        "white",
        "black",
        "gray",
        "grey",
        "silver",
        "gold",
        "golden",
        "brown",
        "beige",
        "teal",
        "turquoise",
        "emerald",
        "crimson",
    ]
)


def is_colour(english: str) -> bool:
    """Whether an English word or phrase ends in a colour ("sky blue")."""
    return english.rpartition(" ")[2] in _COLOURS


def noun(korean: str) -> Noun | None:
    """The noun's English, or None when the tables do not know it."""
    return _nouns().get(korean)


def predicate(lemma: str) -> Predicate | None:
    """The verb's or adjective's English (lemma ends in 다, or in 적 for -적 adjectives)."""
    found = _predicates().get(lemma)
    if found is None and lemma.endswith("되다"):  # 장식되다: the past participle of 장식하다
        active = _predicates().get(lemma[:-2] + "하다")
        if active is not None and active.past:
            return Predicate(active.past, False, "", None)
    return found


def idiom(noun_form: str, lemma: str) -> Predicate | None:
    """A noun and verb said together as one English word ("비 오는": rainy)."""
    return _idioms().get((noun_form, lemma))


def adverb(korean: str) -> str | None:
    """The adverb's English."""
    return _adverbs().get(korean)


def position(korean: str) -> str | None:
    """The preposition a place word stands for ("위": on)."""
    return nouns.POSITIONS.get(korean)


def is_dummy(korean: str) -> bool:
    """Whether a head noun adds nothing ("모습": the look of)."""
    return korean in nouns.DUMMY_HEADS


def is_meta(lemma: str) -> bool:
    """Whether a verb asks for the picture rather than describing it ("그려줘")."""
    return lemma in words.META


def number(korean: str) -> int | None:
    """A number word's value (0: "several"), or None."""
    return words.NUMBERS.get(korean)


def determiner(korean: str) -> str | None:
    """English for 다른, 모든, 온 and the like."""
    return words.DETERMINERS.get(korean)


def is_intensifier(korean: str) -> bool:
    """Whether an adverb only says "very" (dropped without loss)."""
    return korean in words.INTENSIFIERS


def is_counter(korean: str) -> bool:
    """Whether a word counts things ("마리", "명")."""
    return korean in words.COUNTERS


def user_words() -> list[str]:
    """Nouns of two or more syllables, for the tokenizer's dictionary."""
    return [k for k in _nouns() if len(k) >= 2]


def plural(phrase: str) -> str:
    """The phrase with its last word in the plural."""
    head, _, last = phrase.rpartition(" ")
    if last in _IRREGULAR:
        last = _IRREGULAR[last]
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def with_article(article: str, phrase: str) -> str:
    """`a`/`an`/`the` before a phrase, or the phrase alone."""
    if not article or not phrase:
        return phrase
    if article == "a" and phrase[0] in "aeiou":
        article = "an"
    return f"{article} {phrase}"


def count_word(count: int) -> str:
    """English for a count ("two"; 0 stands for "several")."""
    if count == 0:
        return "several"
    return words.NUMBER_WORDS[count] if count < len(words.NUMBER_WORDS) else str(count)


def adverb_of(adjective: str) -> str:
    """happy -> happily, gentle -> gently, slow -> slowly."""
    if adjective.endswith("y") and len(adjective) > 2:
        return adjective[:-1] + "ily"
    if adjective.endswith("le"):
        return adjective[:-1] + "y"
    return adjective + "ly"
