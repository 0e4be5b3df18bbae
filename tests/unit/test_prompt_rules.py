"""Prompt rules: validation, immutability once it has outputs, revisions, diffs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from promptcanvas.domain.errors import Conflict, InvalidInput
from promptcanvas.domain.prompts import (
    MAX_TEXT,
    diff_prompts,
    ensure_editable,
    new_prompt,
    revise,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make(text: str = "a red fox", **kw: object) -> object:
    return new_prompt(owner_id="u", text=text, now=NOW, **kw)  # type: ignore[arg-type]


def test_text_is_trimmed_and_language_detected() -> None:
    prompt = new_prompt(owner_id="u", text="  눈 내리는 산타마을 풍경 \n", now=NOW)
    assert prompt.text == "눈 내리는 산타마을 풍경"
    assert prompt.language == "ko"


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_TEXT + 1), "nul\x00byte"])
def test_bad_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        new_prompt(owner_id="u", text=text, now=NOW)
    assert err.value.details["field"] == "text"


def test_tags_are_normalised_and_deduplicated() -> None:
    prompt = new_prompt(owner_id="u", text="x", tags=[" Dog ", "dog", "밝은  영상", ""], now=NOW)
    assert prompt.tags == ["dog", "밝은 영상"]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"rating": 6}, "rating"),
        ({"language": "english!"}, "language"),
        ({"category": "x" * 101}, "category"),
        ({"tags": ["t"] * 0 + [str(i) for i in range(65)]}, "tags"),
    ],
)
def test_bad_fields_are_refused(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        new_prompt(owner_id="u", text="x", now=NOW, **kw)  # type: ignore[arg-type]
    assert err.value.details["field"] == field


def test_wording_is_immutable_once_there_are_outputs() -> None:
    prompt = replace(new_prompt(owner_id="u", text="a fox", now=NOW), output_count=1)
    with pytest.raises(Conflict):
        ensure_editable(prompt, {"text": "a wolf"})
    ensure_editable(prompt, {"tags": ["new"], "text": "a fox"})


def test_trashed_prompt_cannot_be_edited_or_revised() -> None:
    prompt = replace(new_prompt(owner_id="u", text="a fox", now=NOW), deleted_at=NOW)
    with pytest.raises(Conflict):
        ensure_editable(prompt, {"tags": ["x"]})
    with pytest.raises(Conflict):
        revise(prompt, owner_id="u", now=NOW, text="b")


def test_revision_inherits_and_links_to_parent() -> None:
    parent = new_prompt(
        owner_id="u",
        text="a fox",
        tags=["animal"],
        category="Nature",
        negative_text="blurry",
        now=NOW,
    )
    child = revise(parent, owner_id="u", now=NOW, text="귀여운 여우")
    assert child.parent_id == parent.id
    assert child.id != parent.id
    assert (child.tags, child.category, child.negative_text) == (["animal"], "nature", "blurry")
    assert child.language == "ko"


def test_diff_prompts_reports_every_field() -> None:
    a = new_prompt(owner_id="u", text="a fox", tags=["x", "y"], category="c1", now=NOW)
    b = new_prompt(
        owner_id="u", text="a wolf", tags=["y", "z"], category="c2", negative_text="blurry", now=NOW
    )
    d = diff_prompts(a, b)
    assert (d.tags_added, d.tags_removed, d.tags_kept) == (("z",), ("x",), ("y",))
    assert (d.category_from, d.category_to) == ("c1", "c2")
    assert not d.identical
    assert [op.op for op in d.negative_text.ops] == ["insert"]
    assert diff_prompts(a, a).identical
