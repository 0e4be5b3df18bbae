"""Korean to English for prompts: an offline translator of their visual vocabulary.

`to_english` works with no network and no model: Kiwi splits the Korean into morphemes,
tables of ~1,260 words of prompt vocabulary give the English, and `korean_grammar` puts
it in English order. English already in the text is kept as written, clause by clause.
Korean words the tables do not know are dropped (romanised nonsense would mislead search
and image models alike) except proper names, which are romanised; `translate` reports them.
When a text model is configured, `translate_with_model` asks it first and falls back to
the offline translator on any error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from promptcanvas.ports.providers import Message, TextModel, TextRequest
from promptcanvas.services import korean_lexicon as lexicon
from promptcanvas.services import korean_morph as morph
from promptcanvas.services.korean_grammar import Clause
from promptcanvas.services.korean_morph import Morpheme

log = logging.getLogger(__name__)

MAX_CHARS = 4000
_CLAUSES = re.compile(r"[,\n;|，、]+")
_SENTENCE_END = frozenset({"SF"})
_PREDICATES = frozenset({"VV", "VA", "XSA", "XSV"})
_SYSTEM = (
    "Translate the user's Korean image request into one concise English image-generation "
    "prompt. Keep every visual detail (subject, action, place, time, weather, colours, style, "
    "lighting, camera). Keep English words as they are. Reply with the English prompt only."
)


@dataclass(frozen=True)
class Translation:
    """A text in English, with the Korean words the translator could not say."""

    source: str
    english: str
    unknown: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether every Korean word was understood."""
        return not self.unknown


def warm_up() -> bool:
    """Load the Korean analyser ahead of the first request (a few seconds)."""
    return morph.warm_up()


def to_english(text: str) -> str:
    """The text as an English prompt phrase; text with no Korean comes back unchanged."""
    return translate(text).english


def translate(text: str) -> Translation:
    """Translate clause by clause, keeping English clauses and words as written."""
    text = text[:MAX_CHARS]
    if not morph.has_hangul(text):
        return Translation(text, text.strip())
    pieces: list[str] = []
    unknown: list[str] = []
    for part in _CLAUSES.split(text):
        part = part.strip()
        if not part:
            continue
        if not morph.has_hangul(part):
            pieces.append(part)
            continue
        said, missing = _clause(part)
        pieces += [p for p in said if p]
        unknown += missing
    english = ", ".join(dict.fromkeys(pieces))
    return Translation(text, english, tuple(dict.fromkeys(unknown)))


def _clause(text: str) -> tuple[list[str], list[str]]:
    out: list[str] = []
    unknown: list[str] = []
    clause = Clause(text)
    morphemes = morph.analyse(text)
    verbs = [i for i, m in enumerate(morphemes) if m.tag in _PREDICATES]
    for i, m in enumerate(morphemes):
        nxt = morphemes[i + 1] if i + 1 < len(morphemes) else None
        if m.tag in _SENTENCE_END:
            out.append(clause.finish())
            unknown += clause.unknown
            clause = Clause(text)
            continue
        clause.later_verb = bool(verbs) and verbs[-1] > i + 1
        _feed(clause, m, nxt, morphemes[i - 1] if i else None)
    out.append(clause.finish())
    unknown += clause.unknown
    return out, unknown


def _feed(clause: Clause, m: Morpheme, nxt: Morpheme | None, prev: Morpheme | None) -> None:
    tag = m.tag
    suffix = nxt is not None and nxt.tag in ("XSA", "XSV")
    if suffix and tag in ("NNG", "XR", "MAG") and nxt is not None:
        clause.verb_stem(m.form + nxt.form + "다")
    elif tag in ("XSA", "XSV") and prev is not None and prev.tag in ("NNG", "XR", "MAG"):
        return  # taken with the word before it
    elif tag == "NNG" and nxt is not None and nxt.tag == "XSN" and nxt.form == "적":
        clause.verb_stem(m.form + "적")
        clause.modifier("는")
    elif tag == "XSN":
        if m.form == "들":
            clause.plural()
        elif m.form in ("풍", "스타일"):
            clause.noun(Morpheme("풍", "NNG", "풍", m.start, m.end))
    elif tag == "VCP" and prev is not None and prev.tag == "XSN":
        return  # 몽환적'이'ㄴ: the adjective already modifies what follows
    elif tag in ("NNG", "NNP", "NR", "SL", "XR") or (tag == "NP" and lexicon.noun(m.form)):
        _noun(clause, m)
    elif tag == "NNB":
        if lexicon.is_counter(m.form):
            return
        if m.form == "것":
            clause.noun(Morpheme("모습", "NNG", "모습", m.start, m.end))
    elif tag in ("MM", "SN"):
        value = lexicon.number(m.form) if tag == "MM" else _digits(m.form)
        if value is not None:
            clause.counted(value)
        elif (english := lexicon.determiner(m.form)) is not None:
            clause.determiner(english)
    elif tag.startswith("J"):
        clause.particle(m)
    elif tag in ("VV", "VA"):
        clause.verb_stem(m.lemma if m.lemma.endswith("다") else m.form + "다")
    elif tag == "VX":
        clause.auxiliary()
    elif tag == "MAG":
        _adverb(clause, m)
    elif tag == "EC":
        clause.link(m.form)
    elif tag == "ETM":
        clause.modifier(m.form)


def _noun(clause: Clause, m: Morpheme) -> None:
    value = lexicon.number(m.form) if m.tag == "NR" else None
    if value is not None:
        clause.counted(value)
    else:
        clause.noun(m)


def _adverb(clause: Clause, m: Morpheme) -> None:
    if m.form in ("함께", "같이"):
        clause.together()
        return
    english = lexicon.adverb(m.form)
    if english is not None:
        clause.adverb(english)
    elif not lexicon.is_intensifier(m.form):
        clause.unknown.append(m.form)


def _digits(form: str) -> int | None:
    return int(form) if form.isdigit() and len(form) < 4 else None


def translate_with_model(
    text: str, model: TextModel, model_name: str, *, version: str | None = None
) -> str:
    """A configured text model's translation, or the offline one on any error or odd answer."""
    if not morph.has_hangul(text):
        return text.strip()
    request = TextRequest(
        model=model_name,
        version=version,
        messages=(Message("system", _SYSTEM), Message("user", text[:MAX_CHARS])),
        max_tokens=200,
        temperature=0.0,
    )
    try:
        answer = model.complete(request).text.strip().strip('"').strip()
    except Exception as exc:  # any provider failure: the offline translator still answers
        log.info("text model translation failed (%s); using the offline translator", exc)
        return to_english(text)
    if not answer or morph.has_hangul(answer) or len(answer) > 4 * len(text) + 200:
        return to_english(text)
    return answer
