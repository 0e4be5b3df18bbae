"""Text rules shared by prompts and search: normalisation, language detection, search tokens.

Search works the same on SQLite and PostgreSQL because both index the tokens made here:
- Latin-script words are case-folded, stripped of accents and plural-folded ("puppies" -> "puppy");
  queries match them by prefix.
- Hangul, kana and Han runs have no spaces inside words ("강아지가" = dog + particle), so they are
  indexed as overlapping character bigrams plus single characters. A query of two or more
  characters becomes a phrase of bigrams (any substring of a word matches, so 강아지 finds 강아지가
  and 산타 finds 산타마을); a one-character query matches the single-character tokens (밤).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]+"
)
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFC-normalise and trim; inner whitespace is kept (prompts use line breaks)."""
    return unicodedata.normalize("NFC", text).strip()


def normalize_label(text: str) -> str:
    """Normalise a tag or category: NFC, trimmed, single spaces, case-folded."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def detect_language(text: str) -> str:
    """Best-effort ISO 639-1 code for prompt text: 'ko', 'ja', 'zh', 'en' or 'und'."""
    hangul = len(_HANGUL.findall(text))
    kana = len(_KANA.findall(text))
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul == kana == han == latin == 0:
        return "und"
    if hangul and hangul * 2 >= latin:
        return "ko"
    if kana and (kana + han) * 2 >= latin:
        return "ja"
    if han and han * 2 >= latin:
        return "zh"
    if latin:
        return "en"
    return "und"


def _fold_latin(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _stem(word: str) -> str:
    """Fold English plurals so 'puppies' and 'puppy' meet; leaves other words alone."""
    if not word.isascii() or not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _runs(word: str) -> list[tuple[str, bool]]:
    """Split a word into (run, is_cjk) pieces in order."""
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for match in _CJK.finditer(word):
        if match.start() > pos:
            pieces.append((word[pos : match.start()], False))
        pieces.append((match.group(), True))
        pos = match.end()
    if pos < len(word):
        pieces.append((word[pos:], False))
    return pieces


def index_tokens(text: str) -> list[str]:
    """Tokens to index for a field: words and CJK bigrams in order, then CJK single characters."""
    body: list[str] = []
    singles: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        for run, cjk in _runs(word):
            if cjk:
                if len(run) == 1:
                    body.append(run)
                else:
                    body.extend(run[i : i + 2] for i in range(len(run) - 1))
                    singles.extend(run)
            else:
                body.append(_stem(_fold_latin(run)))
    return body + singles


def index_document(text: str) -> str:
    """The space-joined token string that the search index stores for a field."""
    return " ".join(index_tokens(text))


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One search term: a run of tokens that must appear adjacent, the last one maybe a prefix."""

    tokens: tuple[str, ...]
    prefix: bool


def query_terms(query: str) -> list[QueryTerm]:
    """Parse a user's query into terms that must all match (AND).

    Only the query's last word matches as a prefix, the word still being typed (Algolia's
    "prefixLast"): 'portrait' also finds 'portraiture' at the end of a query, and is a whole
    word before another one. Every word as a prefix cost 66 ms p95 for 'old fisherman
    portrait' at 1M prompts (each prefix merges the lists of every word it starts); this
    way, 25 ms. Words are plural-folded either way ('puppies' finds 'puppy').
    """
    terms: list[QueryTerm] = []
    seen: set[QueryTerm] = set()
    for word in _WORD.findall(unicodedata.normalize("NFKC", query).casefold()):
        for run, cjk in _runs(word):
            if cjk:
                if len(run) == 1:
                    term = QueryTerm((run,), prefix=False)
                else:
                    term = QueryTerm(
                        tuple(run[i : i + 2] for i in range(len(run) - 1)), prefix=False
                    )
            else:
                folded = _fold_latin(run)
                term = QueryTerm((_stem(folded),), prefix=len(folded) > 1)
            if term not in seen:
                seen.add(term)
                terms.append(term)
    for i, term in enumerate(terms[:-1]):  # whole words, but for the last one
        if term.prefix:
            terms[i] = QueryTerm(term.tokens, prefix=False)
    return terms
