"""Korean and English full-text search, on SQLite FTS5 and PostgreSQL tsvector alike."""

from __future__ import annotations

import pytest

from tests.conftest import Api

LIBRARY = {
    "puppy": "귀여운 강아지가 뛰노는 밝은 영상",
    "santa": "눈 내리는 산타마을 풍경",
    "night": "밤하늘 아래 고요한 호수, cinematic",
    "english": "a cute puppy running in a bright field, golden hour",
    "puppies": "two fluffy puppies sleeping on a sofa",
    "mixed": "산타 village at dusk, 따뜻한 불빛, cozy",
    "negative": "portrait of a knight",
}


@pytest.fixture
def library(alice: Api) -> dict[str, str]:
    ids = {name: alice.create_prompt(text)["id"] for name, text in LIBRARY.items()}
    alice.patch(
        f"/api/v1/prompts/{ids['negative']}",
        json={"negative_text": "blurry hands", "tags": ["중세", "armor"], "category": "판타지"},
    )
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("강아지", {"puppy"}),
        ("영상", {"puppy"}),
        ("풍경", {"santa"}),
        ("산타", {"santa", "mixed"}),
        ("밤", {"night"}),
        ("산타마을", {"santa"}),
        ("puppy", {"english", "puppies"}),
        ("puppies", {"english", "puppies"}),
        ("PUP", {"english", "puppies"}),
        ("산타 village", {"mixed"}),
        ("불빛 cozy", {"mixed"}),
        ("blurry", {"negative"}),
        ("중세", {"negative"}),
        ("판타지", {"negative"}),
        ("armor", {"negative"}),
        ("고양이", set()),
        ("dragon", set()),
        ('"; DROP TABLE prompts; --', set()),
        ("a* OR b NEAR(c)", set()),
        ("!!!", set()),
    ],
)
def test_search_finds_korean_and_english(
    alice: Api, library: dict[str, str], query: str, expected: set[str]
) -> None:
    found = {p["id"] for p in alice.search(q=query)}
    assert found == {library[name] for name in expected}


def test_relevance_puts_text_matches_before_negative_matches(alice: Api) -> None:
    in_text = alice.create_prompt("a lonely lighthouse")
    in_negative = alice.create_prompt("a boat", negative_text="lighthouse")
    ranked = [p["id"] for p in alice.search(q="lighthouse")]
    assert ranked == [in_text["id"], in_negative["id"]]
    newest = [p["id"] for p in alice.search(q="lighthouse", sort="newest")]
    assert newest == [in_negative["id"], in_text["id"]]


def test_search_follows_edits_and_revisions(alice: Api) -> None:
    p = alice.create_prompt("a red fox")
    alice.patch(f"/api/v1/prompts/{p['id']}", json={"text": "a silver wolf"})
    assert alice.search(q="fox") == []
    assert [x["id"] for x in alice.search(q="wolf")] == [p["id"]]
    child = alice.post(f"/api/v1/prompts/{p['id']}/revisions", json={"text": "a silver owl"})
    assert {x["id"] for x in alice.search(q="silver")} == {p["id"], child.json()["id"]}
