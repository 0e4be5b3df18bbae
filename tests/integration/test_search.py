"""Korean and English full-text search, on SQLite FTS5 and PostgreSQL tsvector alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from promptcanvas.adapters.db.search import filter_tokens
from promptcanvas.bootstrap import Container
from promptcanvas.ports.clock import FakeClock
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
        ("golden ho", {"english"}),  # the last word is being typed: a prefix
        ("gold hour", set()),  # a word followed by another is matched whole
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


def _ranks_like_bm25(container: Container) -> None:
    if container.db.kind != "sqlite":
        pytest.skip("PostgreSQL ranks with ts_rank, which weighs neither rarity nor length")


def test_relevance_weighs_a_rare_word_above_a_common_one(alice: Api, container: Container) -> None:
    _ranks_like_bm25(container)
    for i in range(12):
        alice.create_prompt(f"a river at dusk, study {i}")
    castle_twice = alice.create_prompt("castle castle beside a river")["id"]
    river_twice = alice.create_prompt("river river beside a castle")["id"]  # newer
    ranked = [p["id"] for p in alice.search(q="castle river")]
    assert ranked == [castle_twice, river_twice]


def test_relevance_counts_repeats_and_prefers_the_shorter_prompt(
    alice: Api, container: Container
) -> None:
    _ranks_like_bm25(container)
    short = alice.create_prompt("a lighthouse")["id"]
    long = alice.create_prompt("a lighthouse on a rocky coast under grey winter clouds")["id"]
    assert [p["id"] for p in alice.search(q="lighthouse")] == [short, long]
    twice = alice.create_prompt("lighthouse lighthouse dusk")["id"]
    once = alice.create_prompt("a lighthouse dusk")["id"]
    assert [p["id"] for p in alice.search(q="lighthouse dusk")] == [twice, once]
    # The last word still being typed ranks by the words it starts, and so do Korean words.
    assert [p["id"] for p in alice.search(q="dusk lightho")] == [twice, once]
    for_ko = alice.create_prompt("강아지 강아지 산책")["id"]
    alice.create_prompt("강아지 산책 공원")
    assert [p["id"] for p in alice.search(q="강아지 산책")][0] == for_ko


def test_search_follows_edits_and_revisions(alice: Api) -> None:
    p = alice.create_prompt("a red fox")
    alice.patch(f"/api/v1/prompts/{p['id']}", json={"text": "a silver wolf"})
    assert alice.search(q="fox") == []
    assert [x["id"] for x in alice.search(q="wolf")] == [p["id"]]
    child = alice.post(f"/api/v1/prompts/{p['id']}/revisions", json={"text": "a silver owl"})
    assert {x["id"] for x in alice.search(q="silver")} == {p["id"], child.json()["id"]}


@pytest.fixture
def filtered(alice: Api) -> dict[str, str]:
    """Prompts that all match 'lantern', each passing a different set of filters."""
    project = alice.post("/api/v1/projects", json={"name": "등불 프로젝트"}).json()["id"]
    made = {
        "plain": {},
        "tagged": {"tags": ["밤 풍경", "warm light"]},
        "category": {"category": "인물 사진"},
        "starred": {"starred": True},
        "project": {"project_id": project},
        "everything": {
            "tags": ["밤 풍경"],
            "category": "인물 사진",
            "starred": True,
            "project_id": project,
        },
    }
    ids = {
        name: alice.create_prompt(f"a paper lantern, {name}", **f)["id"] for name, f in made.items()
    }
    alice.create_prompt("a paper boat", tags=["밤 풍경"], category="인물 사진", starred=True)
    return {**ids, "project_id": project}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"plain", "tagged", "category", "starred", "project", "everything"}),
        ({"tag": ["밤 풍경"]}, {"tagged", "everything"}),
        ({"tag": ["밤 풍경", "warm light"]}, {"tagged"}),
        ({"tag": ["밤"]}, set()),  # a tag is matched whole, never by a word of it
        ({"category": "인물 사진"}, {"category", "everything"}),
        ({"category": "인물"}, set()),
        ({"starred": True}, {"starred", "everything"}),
        ({"starred": False}, {"plain", "tagged", "category", "project"}),
        ({"project": "PROJECT"}, {"project", "everything"}),
        (
            {"tag": ["밤 풍경"], "category": "인물 사진", "starred": True, "project": "PROJECT"},
            {"everything"},
        ),
    ],
)
@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_filters_narrow_a_search_to_exactly_the_prompts_that_pass_them(
    alice: Api, filtered: dict[str, str], filters: dict[str, object], expected: set[str], sort: str
) -> None:
    if filters.get("project") == "PROJECT":
        filters = {**filters, "project": filtered["project_id"]}
    found = [p["id"] for p in alice.search(q="lantern", sort=sort, **filters)]
    assert len(found) == len(set(found))
    assert set(found) == {filtered[name] for name in expected}


def test_a_search_follows_a_prompts_filters_as_they_change(alice: Api) -> None:
    p = alice.create_prompt("a glass lighthouse")["id"]
    assert alice.search(q="lighthouse", starred=True) == []
    alice.patch(f"/api/v1/prompts/{p}", json={"starred": True, "tags": ["sea"], "category": "풍경"})
    for filters in ({"starred": True}, {"tag": "sea"}, {"category": "풍경"}):
        assert [x["id"] for x in alice.search(q="lighthouse", **filters)] == [p]
    alice.patch(
        f"/api/v1/prompts/{p}", json={"starred": False, "tags": ["coast"], "category": None}
    )
    for filters in ({"starred": True}, {"tag": "sea"}, {"category": "풍경"}):
        assert alice.search(q="lighthouse", **filters) == []
    assert [x["id"] for x in alice.search(q="lighthouse", tag="coast")] == [p]


def test_words_that_look_like_the_index_filter_tokens_match_only_text(alice: Api) -> None:
    alice.create_prompt("a quiet harbour", tags=["armor"], starred=True)
    tokens = filter_tokens(tags=["armor"], starred=True)
    spellings = [*tokens, *(t.lstrip("\ue000") for t in tokens), "t61726d6f72"]
    for word in spellings:
        assert alice.search(q=word) == [], word
    spelled = alice.create_prompt("graffiti reading " + " ".join(spellings))["id"]
    for word in spellings:
        assert [x["id"] for x in alice.search(q=word)] == [spelled], word


def test_a_search_within_dates_finds_the_prompts_created_then_whatever_their_order(
    alice: Api, container: Container
) -> None:
    # Created in one order, dated in another (as imports of older files are): the range's
    # prompts are not a run of consecutive ids. Edges: the first and last microsecond.
    dates = [
        datetime(2026, 1, 10, tzinfo=UTC),
        datetime(2026, 3, 5, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 15, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 2, 1, tzinfo=UTC),
    ]
    ids = []
    for i, day in enumerate(dates):
        container.library.clock = FakeClock(day)
        ids.append(alice.create_prompt(f"a stone harbour {i}")["id"])
    alice.create_prompt("a stone bridge")
    for sort in ("relevance", "newest", "oldest"):
        january = alice.search(q="harbour", since="2026-01-01", until="2026-02-01", sort=sort)
        assert {p["id"] for p in january} == {ids[0], ids[2], ids[5]}
        # A range in another zone, and one across a year's end and several months.
        seoul = alice.search(
            q="harbour", since="2026-01-01T09:00:00+09:00", until="2026-02-01T09:00:00+09:00"
        )
        assert {p["id"] for p in seoul} == {ids[0], ids[2], ids[5]}
        winter = alice.search(q="harbour", since="2025-12-01", until="2026-03-01", sort=sort)
        assert {p["id"] for p in winter} == {ids[0], ids[2], ids[3], ids[4], ids[5], ids[6]}
        assert alice.search(q="harbour", since="2026-04-01", until="2027-01-01", sort=sort) == []
        decade = alice.search(q="harbour", since="2020-01-01", until="2030-01-01", sort=sort)
        assert {p["id"] for p in decade} == set(ids)  # too many months: the WHERE alone
        assert {p["id"] for p in alice.search(q="harbour", until="2026-01-01", sort=sort)} == {
            ids[4]
        }


def test_the_last_word_finds_every_word_it_starts_however_many_there_are(alice: Api) -> None:
    few = {w: alice.create_prompt(f"a {w} scene")["id"] for w in ("cinema", "cinematic", "cine")}
    # More words than the index spells out one by one:
    zebras = [f"zebra{c}" for c in "abcdefghijklmnopqrst"]
    many = {w: alice.create_prompt(f"a {w} beast")["id"] for w in zebras}
    assert {p["id"] for p in alice.search(q="cinem", limit=200)} == {
        few["cinema"],
        few["cinematic"],
    }
    assert {p["id"] for p in alice.search(q="scene cine", limit=200)} == set(few.values())
    assert {p["id"] for p in alice.search(q="zebr", limit=200)} == set(many.values())
    assert {p["id"] for p in alice.search(q="beast zebraq")} == {many["zebraq"]}
    # A word no prompt has any more is not found, though the index once held it.
    alice.patch(f"/api/v1/prompts/{few['cinematic']}", json={"text": "a quiet scene"})
    assert {p["id"] for p in alice.search(q="cinem")} == {few["cinema"]}
    assert {p["id"] for p in alice.search(q="cinem", sort="newest")} == {few["cinema"]}


def test_a_prompt_without_a_single_word_is_kept_and_matches_no_search(alice: Api) -> None:
    made = alice.create_prompt("!!! ... ???", tags=[], negative_text="")
    assert alice.get(f"/api/v1/prompts/{made['id']}").status_code == 200
    assert alice.search(q="!!!") == []
