"""Semantic layer end to end: embed jobs, search modes, similar work, tenancy, embedder change."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from PIL import Image

from promptcanvas.adapters.db.embeddings import SqlEmbeddingStore
from promptcanvas.adapters.vectors.memory import InProcessIndex
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.domain.jobs import JobStatus
from promptcanvas.ports.embeddings import FakeEmbedder
from promptcanvas.ports.semantic import Filters
from promptcanvas.services.semantic import SemanticSearch
from promptcanvas.services.semantic_index import SemanticIndexer
from promptcanvas.settings import Settings
from tests.conftest import Api
from tests.jobs import drain

LIBRARY = {
    "puppy": "a cute puppy running through a sunny meadow, golden hour",
    "kitten": "a cute kitten sleeping in a sunny meadow, golden hour",
    "knight": "portrait of a knight in shining armor, dramatic light",
    "ramen": "a bowl of steaming ramen with egg and pork, food photography",
    "car": "a vintage red sports car parked on a coastal road at sunset",
    "lighthouse": "a lighthouse on a rocky coast during a storm with giant waves",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No background thread: tests tick and drain by hand, so they are deterministic."""
    return settings.model_copy(update={"semantic_background": False})


def embed_all(container: Container) -> None:
    """What the background thread and the workers do: queue jobs, run them, sync."""
    container.indexer.tick()
    drain(container)
    container.indexer.tick()


@pytest.fixture
def library(container: Container, alice: Api) -> dict[str, str]:
    ids = {name: alice.create_prompt(text)["id"] for name, text in LIBRARY.items()}
    embed_all(container)
    return ids


def found(api: Api, q: str, mode: str, **params: Any) -> list[str]:
    return [p["id"] for p in api.search(q=q, mode=mode, **params)]


def test_a_paraphrase_is_found_by_meaning_not_by_keywords(
    alice: Api, library: dict[str, str]
) -> None:
    query = "little dog dashing across a field on a bright day"
    assert found(alice, query, "keyword") == []
    assert found(alice, query, "semantic")[0] == library["puppy"]
    assert found(alice, query, "hybrid")[0] == library["puppy"]
    assert found(alice, "a storm at the seaside", "semantic", limit=1) == [library["lighthouse"]]


def test_hybrid_keeps_exact_word_matches_and_adds_meaning(
    alice: Api, library: dict[str, str]
) -> None:
    hybrid = found(alice, "kitten", "hybrid")
    assert hybrid[0] == library["kitten"]  # the only prompt with the word, and the closest
    assert library["puppy"] in hybrid  # a young animal in a meadow too
    assert found(alice, "kitten", "keyword") == [library["kitten"]]


def test_a_korean_request_finds_the_english_prompt(alice: Api, library: dict[str, str]) -> None:
    pytest.importorskip("promptcanvas.services.translate")
    query = "귀여운 강아지가 햇살 가득한 들판을 달리는 모습"
    assert library["puppy"] in found(alice, query, "hybrid", limit=5)
    assert found(alice, query, "semantic")[0] == library["puppy"]


def test_embed_jobs_store_vectors_tagged_with_the_embedder(
    container: Container, alice: Api
) -> None:
    alice.create_prompt("an owl perched on a mossy branch at night")
    created = container.indexer.tick()
    assert len(created) == 1
    assert container.indexer.tick() == []  # one live job per owner is enough
    drain(container)
    with container.runner.uow(write=False) as uow:
        job = uow.jobs.get(alice.user_id, created[0])
    assert job is not None and job.kind == "embed" and job.status is JobStatus.SUCCESS
    assert job.result == {"identity": container.indexer.identity, "embedded": 1, "unchanged": 0}
    total, done, queued = SqlEmbeddingStore(container.db).coverage(container.indexer.identity)
    assert (total, done, queued) == (1, 1, 0)
    assert container.indexer.identity.startswith("model2vec:")


def test_edits_and_revisions_are_re_embedded(
    container: Container, alice: Api, library: dict[str, str]
) -> None:
    car = library["car"]
    alice.patch(f"/api/v1/prompts/{car}", json={"text": "a hot air balloon over green valleys"})
    child = alice.post(
        f"/api/v1/prompts/{library['knight']}/revisions",
        json={"text": "a samurai standing in a bamboo grove with a katana"},
    ).json()["id"]
    alice.patch(f"/api/v1/prompts/{library['ramen']}", json={"starred": True})  # text unchanged
    embed_all(container)
    assert found(alice, "balloon drifting above lush hills", "semantic", limit=1) == [car]
    assert found(alice, "japanese swordsman among bamboo", "semantic", limit=1) == [child]
    assert car not in found(alice, "classic convertible by the seaside highway", "semantic")


def test_a_prompt_written_by_any_path_is_queued_by_the_database(container: Container) -> None:
    owner = container.users.add_user("importer").id
    # Straight through the repository, as imports and batches do: no service call involved.
    from promptcanvas.domain import prompts as rules

    prompt = rules.new_prompt(
        owner_id=owner, text="a jellyfish glowing in the deep ocean", now=container.clock.now()
    )
    with container.runner.uow() as uow:
        uow.prompts.add(prompt)
        uow.commit()
    embed_all(container)
    hits = container.semantic.search(owner, "luminous medusa in dark water", k=3, mode="semantic")
    assert [pid for pid, _ in hits] == [prompt.id]


def test_no_query_ever_returns_another_users_prompt(
    container: Container, alice: Api, bob: Api, library: dict[str, str]
) -> None:
    bobs = {bob.create_prompt(text)["id"] for text in LIBRARY.values()}  # the very same texts
    embed_all(container)
    for q in ("a cute puppy running through a sunny meadow", "knight", "강아지", "storm coast"):
        for mode in ("keyword", "semantic", "hybrid"):
            assert not set(found(alice, q, mode)) & bobs
            assert set(found(bob, q, mode)) <= bobs
    for pid in library.values():
        assert bob.get(f"/api/v1/prompts/{pid}/similar").status_code == 404
    similar = alice.get(f"/api/v1/prompts/{library['puppy']}/similar").json()["data"]
    assert similar and not {p["id"] for p in similar} & bobs
    alone = container.semantic.search(alice.user_id, "puppy", k=50, mode="hybrid")
    assert {pid for pid, _ in alone} <= set(library.values())


def test_trashed_prompts_and_filters_are_honoured(
    container: Container, alice: Api, library: dict[str, str]
) -> None:
    alice.delete(f"/api/v1/prompts/{library['puppy']}")
    query = "little dog dashing across a field"
    assert library["puppy"] not in found(alice, query, "semantic")
    assert found(alice, query, "semantic", trashed=True) == [library["puppy"]]
    alice.patch(f"/api/v1/prompts/{library['knight']}", json={"tags": ["armor"]})
    assert found(alice, "a warrior", "hybrid", tag="armor") == [library["knight"]]
    hits = container.semantic.search_prompts(
        alice.user_id, "food", mode="semantic", filters=Filters(category="nothing-like-this")
    )
    assert hits == []


def test_similar_prompts_endpoint(alice: Api, library: dict[str, str]) -> None:
    response = alice.get(f"/api/v1/prompts/{library['puppy']}/similar", params={"k": 2})
    assert response.status_code == 200
    data = response.json()["data"]
    assert [p["id"] for p in data][0] == library["kitten"]
    assert library["puppy"] not in [p["id"] for p in data] and len(data) <= 2
    assert 0 < data[0]["score"] <= 1
    assert alice.get("/api/v1/prompts/nope/similar").status_code == 404
    assert alice.get(f"/api/v1/prompts/{library['puppy']}/similar?k=0").status_code == 422


def test_bad_search_input_gets_a_clear_4xx(alice: Api, library: dict[str, str]) -> None:
    assert alice.get("/api/v1/prompts", params={"q": "fox", "mode": "vibes"}).status_code == 422
    page = alice.get("/api/v1/prompts", params={"q": "fox", "mode": "semantic", "cursor": "x"})
    assert page.status_code == 400
    sort = alice.get("/api/v1/prompts", params={"q": "fox", "mode": "hybrid", "sort": "newest"})
    assert sort.status_code == 422
    nul = alice.get("/api/v1/prompts", params={"q": "fox\x00", "mode": "semantic"})
    assert nul.status_code == 422
    listing = alice.get("/api/v1/prompts", params={"mode": "semantic"})  # no q: a plain listing
    assert listing.status_code == 200 and len(listing.json()["data"]) == len(library)


def _png(color: tuple[int, int, int], marker: int = 0, stripes: bool = False) -> bytes:
    image = Image.new("RGB", (64, 64), color)
    for x in range(64):
        for y in range(0, 64, 16) if stripes else (x // 2,):
            image.putpixel((x, y), (255, 255, 255))
    image.putpixel((63, 63 - marker), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _generate(container: Container, api: Api, text: str) -> list[str]:
    response = api.post(
        "/api/v1/generations",
        json={"provider": "local", "model": "sketch", "text": text, "n": 2, "seed": 1},
    )
    assert response.status_code == 202, response.text
    drain(container)
    generation = api.get(f"/api/v1/generations/{response.json()['generation_ids'][0]}").json()
    assert generation["status"] == "SUCCESS", generation
    jobs = api.get(f"/api/v1/jobs/{response.json()['job_id']}").json()
    ids = []
    for gen_id in jobs["generation_ids"]:
        ids += [a["id"] for a in api.get(f"/api/v1/generations/{gen_id}").json()["assets"]]
    return ids


def test_similar_assets_lists_near_duplicates_then_similar_work(
    container: Container, alice: Api, bob: Api
) -> None:
    first = alice.upload(_png((200, 30, 40))).json()
    again = alice.upload(_png((201, 30, 40), marker=1)).json()  # other bytes, same picture
    other = alice.upload(_png((10, 200, 90), stripes=True)).json()
    bobs = bob.upload(_png((200, 30, 40))).json()
    data = alice.get(f"/api/v1/assets/{first['id']}/similar").json()["data"]
    assert data[0]["id"] == again["id"] and data[0]["reason"] == "near_duplicate"
    assert data[0]["distance"] <= 10
    assert {a["id"] for a in data}.isdisjoint({first["id"], other["id"], bobs["id"]})

    fox = _generate(container, alice, "a red fox standing in fresh snow in a pine forest")
    wolf = _generate(container, alice, "a grey fox in the snowy woods in winter")
    _generate(container, alice, "a bowl of ramen with egg, food photography")
    embed_all(container)
    found_ids = alice.get(f"/api/v1/assets/{fox[0]}/similar").json()["data"]
    reasons = {a["id"]: a["reason"] for a in found_ids}
    assert reasons.get(fox[1]) in ("same_prompt", "near_duplicate")
    assert any(reasons.get(w) for w in wolf)
    assert bob.get(f"/api/v1/assets/{fox[0]}/similar").status_code == 404


def test_other_processes_writes_reach_this_index(
    container: Container, settings: Settings, alice: Api, library: dict[str, str]
) -> None:
    query = "an owl sitting in foggy woods"
    container.semantic.search(alice.user_id, query)  # this process's index is built now
    other = bootstrap(settings, upgrade=False)  # a second server or worker on the same database
    try:
        owl = other.library.create_prompt(alice.user_id, text="an owl on a branch in misty woods")
        other.indexer.tick()
        drain(other)
        before = container.semantic.search(alice.user_id, query, k=3, mode="semantic")
        assert owl.id not in [pid for pid, _ in before]  # written elsewhere, not synced yet
        container.indexer.tick()  # the sync
        hits = container.semantic.search(alice.user_id, query, k=1, mode="semantic")
        assert [pid for pid, _ in hits] == [owl.id]
    finally:
        other.close()


def test_changing_the_embedder_re_embeds_while_search_keeps_working(
    container: Container, alice: Api, library: dict[str, str]
) -> None:
    store = SqlEmbeddingStore(container.db)
    indexer = SemanticIndexer(
        container.runner.uow,
        store,
        FakeEmbedder(64),
        container.queue,
        container.clock,
        make_index=lambda dim: InProcessIndex(dim),
        background=False,
    )
    fresh = SemanticSearch(container.runner.uow, container.library, store, indexer)
    container.runner.kinds[indexer.kind] = indexer.run_job  # this deployment's workers now
    created = indexer.tick()  # queues every prompt for the new identity, one job per owner
    assert len(created) == 1
    # Before the re-embed has run, the old index still answers and hybrid still finds words.
    query = "little dog dashing across a field on a bright day"
    assert found(alice, query, "semantic")[0] == library["puppy"]
    assert [p for p, _ in fresh.search(alice.user_id, "knight", k=3)] == [library["knight"]]
    drain(container)
    indexer.tick()
    total, done, queued = store.coverage(indexer.identity)
    assert (total, done, queued) == (len(LIBRARY), len(LIBRARY), 0)
    hits = fresh.search(alice.user_id, "sunny meadow golden hour", k=2, mode="semantic")
    assert {p for p, _ in hits} == {library["puppy"], library["kitten"]}
    # The old identity's vectors are gone once the new one covers everything.
    assert store.coverage(container.indexer.identity)[1] == 0


def test_service_api_for_other_workflows(
    container: Container, alice: Api, library: dict[str, str]
) -> None:
    hits = container.semantic.search(alice.user_id, "steaming noodle soup", k=2, mode="semantic")
    assert hits[0][0] == library["ramen"] and 0 < hits[0][1] <= 1
    similar = container.semantic.similar_prompts(alice.user_id, library["kitten"], 1)
    assert similar[0][0] == library["puppy"]


def test_the_background_thread_builds_the_index_and_queues_jobs(settings: Settings) -> None:
    live = settings.model_copy(update={"semantic_background": True, "semantic_sync_seconds": 0.05})
    c = bootstrap(live)
    try:
        owner = c.users.add_user("carol").id
        lighthouse = c.library.create_prompt(owner, text="a lighthouse on a rocky coast in a storm")
        query = "beacon tower on the cliffs battered by huge waves"
        hits: list[tuple[str, float]] = []
        deadline = time.monotonic() + 30
        while not hits and time.monotonic() < deadline:
            hits = c.semantic.search(owner, query, k=1, mode="semantic")  # starts the thread
            drain(c)  # the workers of a running server
            time.sleep(0.05)
        assert [pid for pid, _ in hits] == [lighthouse.id]
    finally:
        c.close()
