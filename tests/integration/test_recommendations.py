"""POST /api/v1/recommendations and the retrieval helper, on the real search and database."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from promptcanvas.bootstrap import Container
from promptcanvas.ports.providers import Message, TextRequest
from promptcanvas.services.recommend import Recommender
from promptcanvas.settings import Settings
from tests.conftest import Api
from tests.jobs import drain

LIBRARY = {
    "puppy": "a cute puppy running through a sunny meadow",
    "puppy2": "a cute puppy running through a sunny meadow, soft light",
    "kitten": "a sleepy kitten curled up on a windowsill in the rain",
    "knight": "portrait of a knight in shining armor, dramatic light",
    "ramen": "a bowl of steaming ramen with egg and pork, food photography",
    "lighthouse": "a lighthouse on a rocky coast during a storm with giant waves",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No background indexing thread: tests embed by hand, so results are deterministic."""
    return settings.model_copy(update={"semantic_background": False})


def embed_all(container: Container) -> None:
    container.indexer.tick()
    drain(container)
    container.indexer.tick()


@pytest.fixture
def library(container: Container, alice: Api) -> dict[str, str]:
    ids = {name: alice.create_prompt(text)["id"] for name, text in LIBRARY.items()}
    embed_all(container)
    return ids


def recommend(api: Api, text: str, k: int = 5) -> dict[str, Any]:
    response = api.post("/api/v1/recommendations", json={"text": text, "k": k})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def generate(container: Container, api: Api, prompt_id: str) -> None:
    body = {"provider": "local", "model": "sketch", "prompt_id": prompt_id, "n": 2, "seed": 3}
    body["params"] = {"width": 128, "height": 128}
    response = api.post("/api/v1/generations", json=body)
    assert response.status_code == 202, response.text
    drain(container)


def test_an_english_request_finds_the_prompts_about_it(alice: Api, library: dict[str, str]) -> None:
    found = recommend(alice, "little dog dashing across a field on a bright day", k=3)
    ids = [r["prompt"]["id"] for r in found["data"]]
    assert ids[0] in (library["puppy"], library["puppy2"])
    assert found["english"] is None
    assert len(ids) <= 3


def test_a_korean_request_finds_the_english_prompts(alice: Api, library: dict[str, str]) -> None:
    found = recommend(alice, "귀여운 강아지가 햇살 가득한 들판을 달리는 모습", k=3)
    ids = [r["prompt"]["id"] for r in found["data"]]
    assert {library["puppy"], library["puppy2"]} & set(ids[:2])
    assert found["english"] == "a cute puppy running across a sunny field"
    storm = recommend(alice, "폭풍우 치는 바다 위의 등대", k=3)
    assert storm["data"][0]["prompt"]["id"] == library["lighthouse"]


def test_ratings_and_outcomes_lift_a_prompt_among_equals(
    container: Container, alice: Api, library: dict[str, str]
) -> None:
    before = recommend(alice, "a cute puppy running through a sunny meadow", k=2)
    ranked = [r["prompt"]["id"] for r in before["data"]]
    assert set(ranked) == {library["puppy"], library["puppy2"]}
    favourite = ranked[1]  # the less relevant of two near-identical prompts
    assert alice.patch(
        f"/api/v1/prompts/{favourite}", json={"rating": 5, "starred": True}
    ).is_success
    generate(container, alice, favourite)
    after = recommend(alice, "a cute puppy running through a sunny meadow", k=2)
    top = after["data"][0]
    assert top["prompt"]["id"] == favourite
    assert (top["rating"], top["starred"], top["outputs"]) == (5, True, 2)
    assert top["last_used_at"] is not None
    assert len(top["assets"]) == 2 and top["assets"][0]["url"].startswith("/api/v1/assets/")
    second = after["data"][1]
    assert (second["rating"], second["outputs"], second["assets"]) == (None, 0, [])
    assert top["score"] > second["score"] and top["relevance"] <= second["relevance"]


def test_never_another_users_prompts(alice: Api, bob: Api, library: dict[str, str]) -> None:
    assert recommend(bob, "a cute puppy running through a sunny meadow")["data"] == []
    bob_prompt = bob.create_prompt("a cute puppy running through a sunny meadow")["id"]
    ids = {r["prompt"]["id"] for r in recommend(alice, "a cute puppy in a meadow", k=50)["data"]}
    assert bob_prompt not in ids and ids <= set(library.values())


def test_trashed_prompts_are_not_recommended(alice: Api, library: dict[str, str]) -> None:
    assert alice.delete(f"/api/v1/prompts/{library['ramen']}").is_success
    ids = [r["prompt"]["id"] for r in recommend(alice, "a bowl of ramen with egg", k=5)["data"]]
    assert library["ramen"] not in ids


@pytest.mark.parametrize(
    "body",
    [
        {"text": "", "k": 5},
        {"text": "   ", "k": 5},
        {"text": "a cat", "k": 0},
        {"text": "a cat", "k": 51},
        {"text": "a cat", "k": "many"},
        {"text": "x" * 2001},
        {"text": "a \x00 cat"},
        {"k": 5},
        {"text": "a cat", "extra": 1},
        {"text": ["a cat"]},
    ],
)
def test_bad_input_gets_a_422(alice: Api, body: dict[str, Any]) -> None:
    response = alice.post("/api/v1/recommendations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"


def test_k_defaults_to_five_and_needs_a_key(
    client: Any, alice: Api, library: dict[str, str]
) -> None:
    assert len(recommend(alice, "a picture")["data"]) <= 5
    response = alice.post("/api/v1/recommendations", json={"text": "light"})
    assert response.status_code == 200 and len(response.json()["data"]) <= 5
    anonymous = client.post("/api/v1/recommendations", json={"text": "a cat"})
    assert anonymous.status_code == 401


def test_retrieve_gives_prompts_outputs_and_ratings_for_a_text_model(
    container: Container, alice: Api, library: dict[str, str]
) -> None:
    assert alice.patch(f"/api/v1/prompts/{library['kitten']}", json={"rating": 4}).is_success
    generate(container, alice, library["kitten"])
    found = container.recommender.retrieve(alice.user_id, "고양이가 창가에서 자는 모습", k=2)
    assert found[0].prompt.id == library["kitten"]
    assert found[0].prompt.rating == 4 and found[0].outputs == 2
    assert [g.status for g in found[0].generations] == ["SUCCESS", "SUCCESS"]
    assert all(a.owner_id == alice.user_id for a in found[0].assets)


class FixedFinder:
    """Search results with chosen relevance, to check the weighing alone."""

    def __init__(self, results: list[tuple[str, float]]) -> None:
        self.results = results

    def search(
        self, owner_id: str, text: str, *, k: int, mode: Literal["keyword", "semantic", "hybrid"]
    ) -> list[tuple[str, float]]:
        assert mode == "hybrid"
        return self.results[:k]


def test_relevance_leads_and_quality_only_reorders_close_candidates(
    container: Container, alice: Api, library: dict[str, str]
) -> None:
    rated = library["knight"]
    assert alice.patch(f"/api/v1/prompts/{rated}", json={"rating": 5, "starred": True}).is_success
    finder = FixedFinder([(library["ramen"], 1.0), (library["lighthouse"], 0.9), (rated, 0.3)])
    found = Recommender(container.library.uow, finder).recommend(alice.user_id, "soup", 3)
    assert [r.prompt.id for r in found.items] == [library["ramen"], library["lighthouse"], rated]
    finder = FixedFinder([(library["ramen"], 1.0), (rated, 0.9)])
    found = Recommender(container.library.uow, finder).recommend(alice.user_id, "soup", 3)
    assert [r.prompt.id for r in found.items] == [rated, library["ramen"]]


def test_text_cache_counters_reach_metrics(container: Container, alice: Api, client: Any) -> None:
    writer = container.registry.text("local")
    messages = (Message("user", "귀여운 강아지가 햇살 가득한 들판을 달리는 모습"),)
    request = TextRequest(model="prompt-writer", version=None, messages=messages, seed=1)
    first = container.text_cache.complete(alice.user_id, writer, request)
    again = container.text_cache.complete(alice.user_id, writer, request)
    assert (first.source, again.source, again.text) == ("model", "exact", first.text)
    assert "dog running" in first.text.lower()  # the local prompt writer answered
    text = client.get("/metrics").text
    assert 'promptcanvas_text_cache_requests_total{result="exact_hit"} 1' in text
    assert 'promptcanvas_text_cache_requests_total{result="miss"} 1' in text
    assert "promptcanvas_text_cache_stores_total 1" in text
