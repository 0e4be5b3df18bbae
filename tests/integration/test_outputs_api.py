"""GET /api/v1/outputs and the batch actions: paging, filters, sort, search, collapse, tenancy."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from promptcanvas.adapters.db.tables import assets, generation_assets, generations
from promptcanvas.bootstrap import Container
from promptcanvas.domain.ids import new_id
from promptcanvas.settings import Settings
from tests.conftest import Api
from tests.jobs import drain

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No background indexing thread: tests embed by hand, so search is deterministic."""
    return settings.model_copy(update={"semantic_background": False})


def add_outputs(
    container: Container,
    api: Api,
    prompt_id: str,
    count: int,
    *,
    start: datetime = T0,
    step: timedelta = timedelta(minutes=1),
    per_generation: int = 1,
    provider: str = "local",
    model: str = "sketch",
    version: str | None = "1",
    phash: str | None = None,
) -> list[str]:
    """Generations with assets written straight to the database (fast, exact timestamps)."""
    ids = []
    with container.db.transaction(write=True) as conn:
        for i in range(count):
            gid = new_id()
            ids.append(gid)
            when = start + step * i
            conn.execute(
                generations.insert().values(
                    id=gid,
                    owner_id=api.user_id,
                    prompt_id=prompt_id,
                    provider=provider,
                    model=model,
                    model_version=version,
                    parameters={},
                    seed=i,
                    status="SUCCESS",
                    created_at=when,
                )
            )
            for position in range(per_generation):
                aid = new_id()
                sha = hashlib.sha256(aid.encode()).hexdigest()
                conn.execute(
                    assets.insert().values(
                        id=aid,
                        owner_id=api.user_id,
                        sha256=sha,
                        media_type="image/png",
                        size=10,
                        width=64,
                        height=48,
                        storage_key=f"blobs/{sha}",
                        created_at=when,
                        phash=phash,
                    )
                )
                conn.execute(
                    generation_assets.insert().values(
                        generation_id=gid, asset_id=aid, position=position
                    )
                )
    return ids


def all_pages(api: Api, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = api.get("/api/v1/outputs", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
        cursor = body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("paging did not end")


def keys(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["generation_id"], o["asset_id"]) for o in items]


def test_paging_gives_every_output_once_in_order(container: Container, alice: Api) -> None:
    prompt = alice.create_prompt("a lighthouse on a cliff", tags=["sea"])
    made = add_outputs(container, alice, prompt["id"], 9, per_generation=2)
    # Same timestamp for several generations: ties must still page exactly.
    made += add_outputs(container, alice, prompt["id"], 6, step=timedelta(0))
    total = 9 * 2 + 6
    newest = all_pages(alice, limit=5)
    assert len(newest) == total and len(set(keys(newest))) == total
    assert {o["generation_id"] for o in newest} == set(made)
    stamps = [o["created_at"] for o in newest]
    assert stamps == sorted(stamps, reverse=True)
    oldest = all_pages(alice, limit=7, sort="oldest")
    assert sorted(keys(oldest)) == sorted(keys(newest))
    in_order = list(dict.fromkeys(o["generation_id"] for o in oldest))
    assert in_order == list(reversed(list(dict.fromkeys(o["generation_id"] for o in newest))))
    first = newest[0]
    assert first["prompt_text"] == "a lighthouse on a cliff" and first["tags"] == ["sea"]
    assert first["thumbnail_url"] == f"/api/v1/assets/{first['asset_id']}/thumbnail"
    assert first["url"] == f"/api/v1/assets/{first['asset_id']}/content"
    assert first["collapsed_count"] == 1
    assert first["width"] == 64 and first["media_type"] == "image/png"


def test_rating_sort_pages_best_first(container: Container, alice: Api) -> None:
    ratings = {3: None, 5: None, 1: None}
    for rating in ratings:
        prompt = alice.create_prompt(f"prompt rated {rating}", rating=rating)
        add_outputs(container, alice, prompt["id"], 3)
    unrated = alice.create_prompt("never rated")
    add_outputs(container, alice, unrated["id"], 2)
    items = all_pages(alice, sort="rating", limit=2)
    assert [o["rating"] for o in items] == [5, 5, 5, 3, 3, 3, 1, 1, 1, None, None]
    assert len(set(keys(items))) == 11


def test_each_filter_narrows_the_listing(container: Container, alice: Api) -> None:
    project = alice.post("/api/v1/projects", json={"name": "Sea"}).json()
    sea = alice.create_prompt(
        "a stormy sea", tags=["Sea", "storm"], category="Landscape", project_id=project["id"]
    )
    cat = alice.create_prompt("a sleepy cat", tags=["pet"], starred=True)
    sea_out = add_outputs(container, alice, sea["id"], 2, version="2", start=T0)
    cat_out = add_outputs(
        container,
        alice,
        cat["id"],
        3,
        provider="other",
        model="toy",
        version=None,
        start=T0 + timedelta(days=3),
    )

    def ids(**params: Any) -> set[str]:
        return {o["generation_id"] for o in all_pages(alice, **params)}

    assert ids(tag="sea") == set(sea_out)  # tags match case-insensitively
    assert ids(tag="pet") == set(cat_out)
    assert ids(category="landscape") == set(sea_out)
    assert ids(project_id=project["id"]) == set(sea_out)
    assert ids(provider="other") == set(cat_out)
    assert ids(model="sketch") == set(sea_out)
    assert ids(model="sketch", model_version="2") == set(sea_out)
    assert ids(model_version="9") == set()
    assert ids(starred="true") == set(cat_out)
    assert ids(starred="false") == set(sea_out)
    assert ids(since="2026-03-03") == set(cat_out)
    assert ids(until="2026-03-01") == set(sea_out)  # a date counts whole
    assert ids(since="2026-03-01T12:00:30Z", until="2026-03-02") == {sea_out[1]}
    assert ids(tag="nothing-like-this") == set()


def test_trash_hides_restore_brings_back_and_other_users_ids_change_nothing(
    container: Container, alice: Api, bob: Api
) -> None:
    mine = add_outputs(container, alice, alice.create_prompt("mine")["id"], 3)
    theirs = add_outputs(container, bob, bob.create_prompt("theirs")["id"], 1)
    response = alice.post("/api/v1/outputs/trash", json={"generation_ids": [mine[0], theirs[0]]})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["details"]["generation_ids"] == [theirs[0]]
    assert len(all_pages(alice)) == 3 and len(all_pages(bob)) == 1  # nothing changed

    response = alice.post("/api/v1/outputs/trash", json={"generation_ids": mine[:2]})
    assert response.status_code == 200 and response.json() == {"changed": 2}
    assert [o["generation_id"] for o in all_pages(alice)] == [mine[2]]
    trash = all_pages(alice, trashed="true")
    assert {o["generation_id"] for o in trash} == set(mine[:2])
    assert all(o["trashed_at"] for o in trash)

    assert alice.post("/api/v1/outputs/restore", json={"generation_ids": theirs}).status_code == 404
    assert bob.post("/api/v1/outputs/restore", json={"generation_ids": mine[:1]}).status_code == 404
    assert len(all_pages(alice, trashed="true")) == 2
    response = alice.post("/api/v1/outputs/restore", json={"generation_ids": mine[:2]})
    assert response.status_code == 200
    assert len(all_pages(alice)) == 3 and all_pages(alice, trashed="true") == []


def test_outputs_of_a_trashed_prompt_are_hidden(container: Container, alice: Api) -> None:
    prompt = alice.create_prompt("soon gone")
    add_outputs(container, alice, prompt["id"], 2)
    assert alice.delete(f"/api/v1/prompts/{prompt['id']}").status_code == 204
    assert all_pages(alice) == []


def tags_of(api: Api, prompt_id: str) -> list[str]:
    return next(p["tags"] for p in api.search(limit=200) if p["id"] == prompt_id)  # type: ignore[no-any-return]


def test_tags_change_on_the_prompts_behind_outputs(
    container: Container, alice: Api, bob: Api
) -> None:
    a = alice.create_prompt("first", tags=["old", "keep"])
    b = alice.create_prompt("second")
    out_a = add_outputs(container, alice, a["id"], 2)
    out_b = add_outputs(container, alice, b["id"], 1)
    theirs = add_outputs(container, bob, bob.create_prompt("theirs")["id"], 1)
    body = {"generation_ids": [out_a[0], theirs[0]], "add": ["New"], "remove": []}
    assert alice.post("/api/v1/outputs/tags", json=body).status_code == 404
    assert tags_of(alice, a["id"]) == ["old", "keep"]

    body = {"generation_ids": [*out_a, out_b[0]], "add": ["New"], "remove": ["OLD"]}
    response = alice.post("/api/v1/outputs/tags", json=body)
    assert response.status_code == 200 and response.json() == {"changed": 2}
    assert tags_of(alice, a["id"]) == ["keep", "new"]
    assert tags_of(alice, b["id"]) == ["new"]
    # The prompt has outputs, yet tags are metadata: no revision was made.
    assert alice.get(f"/api/v1/prompts/{a['id']}/lineage").json()["data"][0]["id"] == a["id"]
    assert {o["generation_id"] for o in all_pages(alice, tag="new")} == {*out_a, *out_b}
    assert bob.search()[0]["tags"] == []


def test_collapse_folds_near_identical_pictures(container: Container, alice: Api) -> None:
    prompt = alice.create_prompt("a red square")
    twins = add_outputs(container, alice, prompt["id"], 3, phash="ffff0000ffff0000")
    near = add_outputs(
        container, alice, prompt["id"], 1, phash="ffff0000ffff0003", start=T0 + timedelta(hours=1)
    )
    other = add_outputs(
        container, alice, prompt["id"], 2, phash="0000ffff0000ffff", start=T0 + timedelta(hours=2)
    )
    plain = add_outputs(container, alice, prompt["id"], 1, start=T0 + timedelta(hours=3))
    items = all_pages(alice, collapse="near")
    counts = {o["generation_id"]: o["collapsed_count"] for o in items}
    assert counts == {plain[0]: 1, other[1]: 2, near[0]: 4}
    folded = next(o for o in items if o["generation_id"] == near[0])
    assert set(folded["collapsed_generation_ids"]) == set(twins)
    assert len(all_pages(alice)) == 7
    paged = all_pages(alice, collapse="near", limit=1)
    assert len(paged) == 3 and sum(o["collapsed_count"] for o in paged) == 7
    first = alice.get("/api/v1/outputs", params={"collapse": "near", "limit": 2}).json()
    assert len(first["data"]) == 2 and first["next_cursor"]


def test_search_finds_english_outputs_by_korean_words(container: Container, alice: Api) -> None:
    pytest.importorskip("promptcanvas.services.translate")
    puppy = alice.create_prompt("a cute puppy running through a sunny meadow")
    ramen = alice.create_prompt("a bowl of steaming ramen, food photography")
    add_outputs(container, alice, puppy["id"], 2)
    add_outputs(container, alice, ramen["id"], 2, start=T0 + timedelta(days=1))
    container.indexer.tick()
    drain(container)
    container.indexer.tick()
    response = alice.get("/api/v1/outputs", params={"q": "강아지"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sort"] == "relevance"
    assert [o["prompt_id"] for o in body["data"][:2]] == [puppy["id"]] * 2
    assert ramen["id"] not in {o["prompt_id"] for o in body["data"][:2]}
    english = all_pages(alice, q="ramen", limit=1)
    assert english[0]["prompt_id"] == ramen["id"]


def test_nobody_sees_another_users_outputs(container: Container, alice: Api, bob: Api) -> None:
    add_outputs(container, alice, alice.create_prompt("private")["id"], 2)
    assert all_pages(bob) == []
    assert all_pages(bob, q="private") == []
    assert all_pages(bob, trashed="true") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "random"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "since"),
        ({"collapse": "all"}, "collapse"),
        ({"starred": "maybe"}, "starred"),
        ({"project_id": "../../etc"}, "project_id"),
        ({"tag": "a\x00b"}, "tag"),
        ({"q": "x" * 501}, "q"),
    ],
)
def test_bad_listing_input_is_422_naming_the_field(
    alice: Api, params: dict[str, Any], field: str
) -> None:
    response = alice.get("/api/v1/outputs", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    details = error["details"]
    named = details.get("field") if isinstance(details, dict) else None
    named = named or str(details)
    assert field in named, error


def test_forged_or_foreign_cursors_are_refused(container: Container, alice: Api) -> None:
    add_outputs(container, alice, alice.create_prompt("p")["id"], 3)
    cursor = alice.get("/api/v1/outputs", params={"limit": 1}).json()["next_cursor"]
    assert cursor
    other = alice.get("/api/v1/outputs", params={"limit": 1, "sort": "oldest", "cursor": cursor})
    assert other.status_code == 400
    assert alice.get("/api/v1/outputs", params={"cursor": "garbage!"}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"generation_ids": []},
        {"generation_ids": "abc"},
        {"generation_ids": [1, 2]},
        {"generation_ids": ["x"] * 501},
        {"generation_ids": ["x"], "extra": True},
    ],
)
def test_bad_batch_bodies_are_422(alice: Api, body: dict[str, Any]) -> None:
    for action in ("trash", "restore", "tags"):
        response = alice.post(f"/api/v1/outputs/{action}", json=body)
        assert response.status_code == 422, (action, response.text)


def test_tags_need_something_to_do_and_valid_labels(container: Container, alice: Api) -> None:
    out = add_outputs(container, alice, alice.create_prompt("p")["id"], 1)
    for body in (
        {"generation_ids": out},
        {"generation_ids": out, "add": ["   "]},
        {"generation_ids": out, "add": ["x" * 101]},
    ):
        response = alice.post("/api/v1/outputs/tags", json=body)
        assert response.status_code == 422, response.text


def test_unknown_ids_are_404_and_nothing_changes(container: Container, alice: Api) -> None:
    out = add_outputs(container, alice, alice.create_prompt("p")["id"], 1)
    for ids in ([out[0], new_id()], [out[0], "not-an-id"]):
        response = alice.post("/api/v1/outputs/trash", json={"generation_ids": ids})
        assert response.status_code == 404
    assert len(all_pages(alice)) == 1
    with container.db.transaction() as conn:
        assert conn.execute(sa.select(generations.c.trashed_at)).scalar() is None
