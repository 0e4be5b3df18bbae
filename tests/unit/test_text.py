"""Bilingual search tokens and language detection."""

from __future__ import annotations

import pytest

from promptcanvas.domain.text import detect_language, index_tokens, query_terms


def _matches(query: str, document: str) -> bool:
    """Evaluate query terms against a document the way both databases do."""
    tokens = index_tokens(document)
    for term in query_terms(query):
        found = False
        for start in range(len(tokens)):
            window = tokens[start : start + len(term.tokens)]
            if len(window) < len(term.tokens):
                break
            head, last = window[:-1], window[-1]
            want_head, want_last = term.tokens[:-1], term.tokens[-1]
            last_ok = last.startswith(want_last) if term.prefix else last == want_last
            if list(head) == list(want_head) and last_ok:
                found = True
                break
        if not found:
            return False
    return True


@pytest.mark.parametrize(
    ("query", "document"),
    [
        ("강아지", "귀여운 강아지가 뛰노는 밝은 영상"),
        ("영상", "귀여운 강아지가 뛰노는 밝은 영상"),
        ("풍경", "눈 내리는 산타마을 풍경"),
        ("산타", "눈 내리는 산타마을 풍경"),
        ("밤", "밤하늘의 별"),
        ("밤", "고요한 밤"),
        ("puppy", "A cute PUPPY in the park"),
        ("puppy", "two puppies playing"),
        ("puppies", "a puppy"),
        ("pup", "puppy"),
        ("cafe", "Café terrace at night"),
        ("강아지 puppy", "귀여운 강아지 cute puppy"),
        ("산타 village", "산타마을 village at dusk"),
    ],
)
def test_query_finds_document(query: str, document: str) -> None:
    assert _matches(query, document)


@pytest.mark.parametrize(
    ("query", "document"),
    [
        ("강아지", "귀여운 고양이"),
        ("밤", "바다 풍경"),
        ("puppy", "a cat"),
        ("강아지 puppy", "귀여운 강아지"),
        ("산타마을", "산타 마을"),
    ],
)
def test_query_does_not_find_document(query: str, document: str) -> None:
    assert not _matches(query, document)


def test_underscores_and_punctuation_split_words() -> None:
    assert index_tokens("masterpiece_style, (best quality:1.2)") == [
        "masterpiece",
        "style",
        "best",
        "quality",
        "1",
        "2",
    ]


def test_query_of_only_punctuation_has_no_terms() -> None:
    assert query_terms("!!! ,,, ???") == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("귀여운 강아지", "ko"),
        ("a cute puppy", "en"),
        ("귀여운 강아지 cute puppy", "ko"),
        ("かわいい犬", "ja"),
        ("可爱的小狗", "zh"),
        ("1234 !!!", "und"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("query", "document", "found"),
    [
        ("cinema", "a cinematic shot", True),  # the word being typed is a prefix
        ("shot cinema", "a cinematic shot", True),
        ("cinema shot", "a cinematic shot", False),  # a word followed by another is whole
        ("cinematic shot", "a cinematic shot", True),
        ("puppies run", "a puppy running", True),  # plural-folded, last word a prefix
        ("puppies 강아지", "a puppy and 강아지", True),
        ("pup 강아지", "a puppy and 강아지", False),  # a CJK word is last: 'pup' is whole
    ],
)
def test_only_the_last_word_of_a_query_matches_as_a_prefix(
    query: str, document: str, found: bool
) -> None:
    assert _matches(query, document) is found
