"""The semantic cache of text-model answers: it saves calls, and never serves a wrong answer.

Runs against the in-memory store and the real SQLite store (migrated like a deployment).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promptcanvas.adapters.db import migrate
from promptcanvas.adapters.db.engine import create_database
from promptcanvas.adapters.db.tables import users
from promptcanvas.adapters.db.text_cache import SqlTextCacheStore
from promptcanvas.ports.clock import FakeClock
from promptcanvas.ports.embeddings import FakeEmbedder
from promptcanvas.ports.providers import (
    Message,
    ModelInfo,
    ProviderError,
    TextModel,
    TextRequest,
    TextResult,
)
from promptcanvas.ports.text_cache import MemoryTextCacheStore, TextCacheStore
from promptcanvas.services.text_cache import TextCache
from tests.conftest import _truncate

ALICE, BOB = "01jaaaaaaaaaaaaaaaaaaaaaaa", "01jbbbbbbbbbbbbbbbbbbbbbbb"
SYSTEM = "Write an English image prompt for the user's idea."


class CountingWriter(TextModel):
    """A text model that numbers its answers, so a cached answer is recognisable."""

    def __init__(self, provider: str = "writer-co") -> None:
        self.provider = provider
        self.calls: list[TextRequest] = []
        self.fail: Exception | None = None

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(name="writer", kind="text", versions=("1", "2"), default_version="2"),
            ModelInfo(name="other", kind="text"),
        ]

    def complete(self, request: TextRequest) -> TextResult:
        if self.fail is not None:
            raise self.fail
        self.calls.append(request)
        return TextResult(f"answer {len(self.calls)}", {"output_tokens": 2})


def ask(text: str, **fields: object) -> TextRequest:
    system = str(fields.pop("system", SYSTEM))
    messages = (Message("system", system), Message("user", text))
    return TextRequest(**({"model": "writer", "version": None, "messages": messages} | fields))  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TextCacheStore]:
    if request.param == "memory":
        yield MemoryTextCacheStore()
        return
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        _truncate(url)
        db = create_database(url)
    else:
        db = create_database(f"sqlite:///{tmp_path / 'cache.db'}")
        migrate.upgrade(db)
    with db.engine.begin() as conn:
        for uid, name in ((ALICE, "alice"), (BOB, "bob")):
            conn.execute(users.insert().values(id=uid, name=name, is_admin=False, created_at=NOW))
    yield SqlTextCacheStore(db)
    db.dispose()


NOW = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def cache(store: TextCacheStore, clock: FakeClock) -> TextCache:
    return TextCache(store, FakeEmbedder(256), clock, threshold=0.9, ttl_seconds=3600)


def test_the_same_request_is_answered_once(cache: TextCache) -> None:
    model = CountingWriter()
    first = cache.complete(ALICE, model, ask("a cat on a red sofa"))
    again = cache.complete(ALICE, model, ask("  a cat on a  red sofa "))
    assert (first.text, first.source) == ("answer 1", "model")
    assert (again.text, again.source) == ("answer 1", "exact")
    assert again.usage == {"output_tokens": 2}
    assert len(model.calls) == 1


def test_a_close_paraphrase_is_a_semantic_hit(cache: TextCache) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a small grey cat sleeping on a red sofa at night"))
    hit = cache.complete(ALICE, model, ask("at night a small grey cat sleeping on a red sofa"))
    assert hit.source == "semantic" and hit.text == "answer 1"
    assert hit.similarity is not None and hit.similarity >= 0.9
    far = cache.complete(ALICE, model, ask("a dragon flying over a burning castle"))
    assert far.source == "model" and far.text == "answer 2"


def test_the_threshold_is_the_cosine_that_counts(store: TextCacheStore, clock: FakeClock) -> None:
    model = CountingWriter()
    strict = TextCache(store, FakeEmbedder(256), clock, threshold=0.99)
    strict.complete(ALICE, model, ask("a small grey cat sleeping on a red sofa at night"))
    # One word changed: a cosine of 0.93, a miss at 0.99 and a hit at the default 0.90.
    couch = ask("a small grey cat sleeping on a red couch at night")
    assert strict.complete(ALICE, model, couch).source == "model"
    loose = TextCache(store, FakeEmbedder(256), clock)
    bed = ask("a small grey cat sleeping on a red bed at night")
    assert loose.complete(ALICE, model, bed).source == "semantic"


@pytest.mark.parametrize(
    "other",
    [
        "a small grey cat sleeping on a blue sofa at night",  # another colour
        "a small grey cat sleeping on a red sofa at night 2",  # a number
        "a small grey cat not sleeping on a red sofa at night",  # a negation
    ],
)
def test_a_different_colour_number_or_negation_is_never_a_semantic_hit(
    cache: TextCache, other: str
) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a small grey cat sleeping on a red sofa at night"))
    missed = cache.complete(ALICE, model, ask(other))
    assert (missed.source, missed.text) == ("model", "answer 2")


def test_answers_never_cross_owners(cache: TextCache) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a cat on a red sofa"))
    other = cache.complete(BOB, model, ask("a cat on a red sofa"))
    assert (other.text, other.source) == ("answer 2", "model")


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"version": "1"},
        {"temperature": 0.2},
        {"max_tokens": 64},
        {"seed": 7},
        {"system": "Write a haiku instead."},
    ],
)
def test_answers_never_cross_models_parameters_or_instructions(
    cache: TextCache, change: dict[str, object]
) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a cat on a red sofa"))
    other = cache.complete(ALICE, model, ask("a cat on a red sofa", **change))
    assert other.source == "model" and len(model.calls) == 2


def test_answers_never_cross_providers(cache: TextCache) -> None:
    cache.complete(ALICE, CountingWriter("writer-co"), ask("a cat on a red sofa"))
    other = CountingWriter("elsewhere")
    assert cache.complete(ALICE, other, ask("a cat on a red sofa")).source == "model"


def test_the_default_version_is_the_same_scope_as_naming_it(cache: TextCache) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a cat on a red sofa"))
    assert cache.complete(ALICE, model, ask("a cat on a red sofa", version="2")).source == "exact"


def test_entries_expire(cache: TextCache, clock: FakeClock) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a cat on a red sofa"))
    clock.advance(3599)
    assert cache.complete(ALICE, model, ask("a cat on a red sofa")).source == "exact"
    clock.advance(2)
    assert cache.complete(ALICE, model, ask("a cat on a red sofa")).source == "model"


def test_korean_requests_match_through_their_translation(cache: TextCache) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("귀여운 강아지가 햇살 가득한 들판을 달리는 모습"))
    hit = cache.complete(ALICE, model, ask("귀여운 강아지가 햇살 가득한 들판을 달리는 장면"))
    assert hit.source == "semantic" and hit.text == "answer 1"


def test_korean_words_the_translator_does_not_know_allow_exact_hits_only(
    cache: TextCache,
) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("샬랄라한 고양이"))
    # Same known words, a different unknown one: must not be taken for the same request.
    assert cache.complete(ALICE, model, ask("꼬질꼬질한 고양이")).source == "model"
    assert cache.complete(ALICE, model, ask("샬랄라한 고양이")).source == "exact"


def test_counters_for_metrics(cache: TextCache) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a small grey cat sleeping on a red sofa at night"))
    cache.complete(ALICE, model, ask("a small grey cat sleeping on a red sofa at night"))
    cache.complete(ALICE, model, ask("at night a small grey cat sleeping on a red sofa"))
    cache.complete(ALICE, model, ask("a cat"), use_cache=False)
    stats = cache.stats()
    assert (stats.misses, stats.exact_hits, stats.semantic_hits) == (1, 1, 1)
    assert (stats.stores, stats.bypassed, stats.errors) == (1, 1, 0)


def test_model_errors_are_not_cached(cache: TextCache) -> None:
    model = CountingWriter()
    model.fail = ProviderError("overloaded")
    with pytest.raises(ProviderError):
        cache.complete(ALICE, model, ask("a cat on a red sofa"))
    model.fail = None
    assert cache.complete(ALICE, model, ask("a cat on a red sofa")).source == "model"


class BrokenStore(MemoryTextCacheStore):
    def exact(self, *args: object) -> None:  # type: ignore[override]
        raise OSError("disk gone")

    def put(self, entry: object) -> None:  # type: ignore[override]
        raise OSError("disk gone")


def test_a_broken_cache_still_answers(clock: FakeClock) -> None:
    cache = TextCache(BrokenStore(), FakeEmbedder(), clock)
    model = CountingWriter()
    assert cache.complete(ALICE, model, ask("a cat")).text == "answer 1"
    assert cache.stats().errors == 2


def test_turned_off_with_a_zero_ttl(store: TextCacheStore, clock: FakeClock) -> None:
    cache = TextCache(store, FakeEmbedder(), clock, ttl_seconds=0)
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a cat"))
    assert cache.complete(ALICE, model, ask("a cat")).source == "model"


def test_an_expired_answer_is_replaced_not_duplicated(store: TextCacheStore) -> None:
    model = CountingWriter()
    cache = TextCache(store, FakeEmbedder(), FakeClock(NOW), ttl_seconds=60)
    cache.complete(ALICE, model, ask("a cat"))
    later_clock = FakeClock(NOW.replace(hour=5))
    later = TextCache(store, FakeEmbedder(), later_clock, ttl_seconds=60)
    assert later.complete(ALICE, model, ask("a cat")).text == "answer 2"  # the first expired
    assert later.complete(ALICE, model, ask("a cat")).text == "answer 2"
    scope = later.scope(model, ask("a cat"))
    live = store.candidates(ALICE, scope, FakeEmbedder().identity, later_clock.now(), 10)
    assert [e.answer for e in live] == ["answer 2"]


def test_answers_stored_by_another_process_are_found(
    store: TextCacheStore, clock: FakeClock
) -> None:
    here, there = (TextCache(store, FakeEmbedder(256), clock) for _ in range(2))
    model = CountingWriter()
    here.complete(ALICE, model, ask("a lighthouse on a rocky coast in a storm"))  # reads the scope
    there.complete(ALICE, model, ask("a small grey cat sleeping on a red sofa at night"))
    clock.advance(1)
    hit = here.complete(ALICE, model, ask("at night a small grey cat sleeping on a red sofa"))
    assert (hit.source, hit.text) == ("semantic", "answer 2")


def test_semantic_matches_expire_too(cache: TextCache, clock: FakeClock) -> None:
    model = CountingWriter()
    cache.complete(ALICE, model, ask("a small grey cat sleeping on a red sofa at night"))
    paraphrase = ask("at night a small grey cat sleeping on a red sofa")
    assert cache.complete(ALICE, model, paraphrase).source == "semantic"
    clock.advance(3601)
    assert cache.complete(ALICE, model, paraphrase).source == "model"
