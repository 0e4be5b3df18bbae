"""Portfolio rules: titles and captions, editing items, the cover, share tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from promptcanvas.domain.errors import InvalidInput
from promptcanvas.domain.portfolios import (
    MAX_ITEMS,
    ItemEdit,
    Portfolio,
    PortfolioItem,
    append_items,
    check_cover,
    clean_caption,
    clean_description,
    clean_title,
    is_token_shaped,
    kept_cover,
    new_share_token,
    rearrange,
)

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def items(*assets: str) -> list[PortfolioItem]:
    return [PortfolioItem(a, f"g-{a}", i, f"caption {a}") for i, a in enumerate(assets)]


def test_titles_are_trimmed_to_one_line_and_bounded() -> None:
    assert clean_title("  Night \n studies  ") == "Night studies"
    assert clean_title("겨울 여우") == "겨울 여우"
    for bad in ("", "   ", "x" * 201, "a\x00b"):
        with pytest.raises(InvalidInput):
            clean_title(bad)


def test_descriptions_and_captions_keep_line_breaks_and_refuse_control_characters() -> None:
    assert clean_description(None) == ""
    assert clean_description(" one\r\ntwo ") == "one\ntwo"
    assert clean_caption("첫 줄\n둘째 줄") == "첫 줄\n둘째 줄"
    with pytest.raises(InvalidInput) as caught:
        clean_caption("bell\x07", 3)
    assert caught.value.details == {"field": "items.3.caption"}
    for bad in ("x" * 2001, "nul\x00"):
        with pytest.raises(InvalidInput):
            clean_caption(bad)
    with pytest.raises(InvalidInput):
        clean_description("x" * 4001)


def test_rearrange_reorders_recaptions_and_drops_items() -> None:
    result = rearrange(items("a", "b", "c"), [ItemEdit("c", "new"), ItemEdit("a")])
    assert [(i.asset_id, i.position, i.caption, i.generation_id) for i in result] == [
        ("c", 0, "new", "g-c"),
        ("a", 1, "caption a", "g-a"),
    ]
    assert rearrange(items("a"), []) == []


@pytest.mark.parametrize(
    "edits",
    [
        [ItemEdit("a"), ItemEdit("zzz")],  # not an item: adding goes through append_items
        [ItemEdit("a"), ItemEdit("a")],  # twice
        [ItemEdit("a", "x" * 2001)],
    ],
)
def test_rearrange_refuses_what_is_not_a_permutation_or_subset(edits: list[ItemEdit]) -> None:
    with pytest.raises(InvalidInput):
        rearrange(items("a", "b"), edits)


def test_append_skips_outputs_already_present_and_respects_the_limit() -> None:
    result = append_items(items("a"), [("b", "g1"), ("a", "g2"), ("b", "g1"), ("c", None)])
    assert [(i.asset_id, i.position) for i in result] == [("a", 0), ("b", 1), ("c", 2)]
    full = [(f"x{n}", None) for n in range(MAX_ITEMS)]
    assert len(append_items([], full)) == MAX_ITEMS
    with pytest.raises(InvalidInput):
        append_items(items("a"), full)


def test_the_cover_is_one_of_the_items_and_falls_back_to_the_first() -> None:
    current = items("a", "b")
    assert check_cover(current, "b") == "b"
    assert check_cover(current, None) is None
    with pytest.raises(InvalidInput):
        check_cover(current, "elsewhere")
    assert kept_cover(items("a"), "b") is None
    assert kept_cover(items("a", "b"), "b") == "b"
    portfolio = Portfolio("p", "o", "T", NOW, NOW, items=current)
    assert portfolio.cover == "a" and not portfolio.published
    portfolio.cover_asset_id = "b"
    assert portfolio.cover == "b"
    assert Portfolio("p", "o", "T", NOW, NOW).cover is None


def test_share_tokens_are_long_url_safe_and_fresh_each_time() -> None:
    tokens = {new_share_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)  # 192 bits
        assert is_token_shaped(token)
    for bad in ("", "short", "A" * 31, "A" * 33, "A" * 31 + "/", "A" * 31 + "=", "가" * 32):
        assert not is_token_shaped(bad)
