"""Word-level diff: complete, Korean-aware, and reversible."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promptcanvas.domain.diff import apply_ops, diff_words, render_inline, tokenize

words = st.sampled_from(
    [
        "a",
        "cute",
        "puppy",
        "강아지가",
        "강아지를",
        "밝은",
        "영상",
        ",",
        " ",
        "  ",
        "\n",
        "4k",
        "고양이",
    ]
)
texts = st.lists(words, max_size=30).map("".join)


@given(texts, texts)
def test_diff_covers_both_texts_exactly(a: str, b: str) -> None:
    result = diff_words(a, b)
    assert apply_ops(result.ops) == (a, b)
    assert result.identical == (a == b)


@given(texts)
def test_tokenize_keeps_every_character(text: str) -> None:
    assert "".join(tokenize(text)) == text


def test_english_word_changes() -> None:
    result = diff_words("a cute puppy in a bright field", "a cute kitten in a dark field, 4k")
    changes = [(op.op, op.a, op.b) for op in result.ops if op.op != "equal"]
    assert changes == [
        ("replace", "puppy", "kitten"),
        ("replace", "bright", "dark"),
        ("insert", "", ", 4k"),
    ]
    assert result.inserted_words == 3
    assert result.deleted_words == 2


def test_korean_particle_change_is_shown_at_syllable_level() -> None:
    result = diff_words("귀여운 강아지가 뛰노는 영상", "귀여운 강아지를 뛰노는 영상")
    changes = [(op.op, op.a, op.b) for op in result.ops if op.op != "equal"]
    assert changes == [("replace", "가", "를")]


def test_unified_and_inline_forms() -> None:
    result = diff_words("red fox\nin snow", "red fox\nin rain", label_a="p1", label_b="p2")
    assert result.unified.splitlines()[:2] == ["--- p1", "+++ p2"]
    assert "-in snow" in result.unified
    assert "+in rain" in result.unified
    assert render_inline(result.ops) == "red fox\nin [-snow-]{+rain+}"
