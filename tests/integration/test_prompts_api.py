"""The prompt library over the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from promptcanvas.bootstrap import Container
from tests.conftest import Api
from tests.factories import png


def _count(api: Api, **params: Any) -> int:
    return len(api.search(limit=200, **params))


def _all_pages(api: Api, **params: Any) -> list[str]:
    """Follow next_cursor to the end; the ids in the order the pages gave them."""
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        body = api.get(
            "/api/v1/prompts", params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [p["id"] for p in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("paging did not end")


def test_create_and_read(alice: Api) -> None:
    created = alice.create_prompt(
        "cinematic portrait of an old fisherman, golden hour",
        negative_text="blurry, lowres",
        category="Portrait",
        tags=["Photo", "people"],
        starred=True,
        rating=4,
        author="Ana",
    )
    assert created["language"] == "en"
    assert created["tags"] == ["photo", "people"]
    assert created["category"] == "portrait"
    fetched = alice.get(f"/api/v1/prompts/{created['id']}").json()
    assert fetched["text"] == created["text"]
    assert fetched["outputs"] == []
    assert fetched["starred"] is True and fetched["rating"] == 4


def test_revise_twice_lineage_and_diff(alice: Api) -> None:
    first = alice.create_prompt("a cute puppy running in a bright field")
    second = alice.post(
        f"/api/v1/prompts/{first['id']}/revisions",
        json={"text": "a cute kitten running in a bright field"},
    ).json()
    third = alice.post(
        f"/api/v1/prompts/{second['id']}/revisions",
        json={"text": "a cute kitten sleeping in a dark field", "note": "mood"},
    )
    assert third.status_code == 201
    third = third.json()
    assert third["parent_id"] == second["id"]
    for pid in (first["id"], third["id"]):
        lineage = alice.get(f"/api/v1/prompts/{pid}/lineage").json()
        assert [n["id"] for n in lineage["data"]] == [first["id"], second["id"], third["id"]]
        assert [n["depth"] for n in lineage["data"]] == [0, 1, 2]
        assert lineage["root_id"] == first["id"]
    diff = alice.get(f"/api/v1/prompts/{third['id']}/diff", params={"against": first["id"]})
    assert diff.status_code == 200
    body = diff.json()
    changed = {(o["a"], o["b"]) for o in body["text"]["ops"] if o["op"] != "equal"}
    assert changed == {("puppy running", "kitten sleeping"), ("bright", "dark")}
    assert body["text"]["unified"].startswith(f"--- {first['id']}\n+++ {third['id']}\n")
    assert not body["identical"]


def test_lineage_is_a_tree_with_branches_in_order(alice: Api) -> None:
    root = alice.create_prompt("root")
    a = alice.post(f"/api/v1/prompts/{root['id']}/revisions", json={"text": "branch a"}).json()
    b = alice.post(f"/api/v1/prompts/{root['id']}/revisions", json={"text": "branch b"}).json()
    a1 = alice.post(f"/api/v1/prompts/{a['id']}/revisions", json={"text": "branch a1"}).json()
    nodes = alice.get(f"/api/v1/prompts/{root['id']}/lineage").json()["data"]
    assert [(n["id"], n["depth"]) for n in nodes] == [
        (root["id"], 0),
        (a["id"], 1),
        (a1["id"], 2),
        (b["id"], 1),
    ]
    from_b = alice.get(f"/api/v1/prompts/{b['id']}/lineage").json()["data"]
    assert [n["id"] for n in from_b] == [root["id"], b["id"]]


def test_diff_of_category_tags_and_negative(alice: Api) -> None:
    a = alice.create_prompt("a fox", category="animals", tags=["red", "snow"])
    b = alice.post(
        f"/api/v1/prompts/{a['id']}/revisions",
        json={"category": "wildlife", "tags": ["snow", "night"], "negative_text": "blurry"},
    ).json()
    body = alice.get(f"/api/v1/prompts/{b['id']}/diff", params={"against": a["id"]}).json()
    assert body["text"]["identical"]
    assert body["category"] == {"before": "animals", "after": "wildlife", "changed": True}
    assert body["tags"] == {"added": ["night"], "removed": ["red"], "kept": ["snow"]}
    assert body["negative_text"]["ops"] == [{"op": "insert", "a": "", "b": "blurry"}]


def test_patch_metadata_and_wording_until_outputs(alice: Api) -> None:
    p = alice.create_prompt("a fox")
    r = alice.patch(f"/api/v1/prompts/{p['id']}", json={"text": "귀여운 여우", "tags": ["x"]})
    assert r.status_code == 200
    assert r.json()["language"] == "ko"
    assert alice.upload(png(), prompt_id=p["id"]).status_code == 201
    r = alice.patch(f"/api/v1/prompts/{p['id']}", json={"text": "a wolf"})
    assert r.status_code == 409
    assert "revision" in r.json()["error"]["message"]
    assert alice.get(f"/api/v1/prompts/{p['id']}").json()["text"] == "귀여운 여우"
    r = alice.patch(f"/api/v1/prompts/{p['id']}", json={"starred": True, "rating": 5})
    assert r.status_code == 200 and r.json()["starred"] is True


def test_trash_restore_and_purge(alice: Api) -> None:
    keep = alice.create_prompt("keep me")
    gone = alice.create_prompt("trash me")
    child = alice.post(f"/api/v1/prompts/{gone['id']}/revisions", json={"text": "child"}).json()
    assert alice.delete(f"/api/v1/prompts/{gone['id']}").status_code == 204
    assert {p["id"] for p in alice.search()} == {keep["id"], child["id"]}
    assert [p["id"] for p in alice.search(trashed=True)] == [gone["id"]]
    assert alice.search(q="trash") == []
    assert alice.get(f"/api/v1/prompts/{gone['id']}").json()["deleted_at"] is not None
    r = alice.post(f"/api/v1/prompts/{gone['id']}/revisions", json={"text": "x"})
    assert r.status_code == 409
    assert alice.post(f"/api/v1/prompts/{gone['id']}/restore").status_code == 200
    assert [p["id"] for p in alice.search(q="trash")] == [gone["id"]]
    assert alice.delete(f"/api/v1/prompts/{gone['id']}", params={"purge": True}).status_code == 204
    assert alice.get(f"/api/v1/prompts/{gone['id']}").status_code == 404
    orphan = alice.get(f"/api/v1/prompts/{child['id']}").json()
    assert orphan["parent_id"] is None


def test_purge_keeps_lineage_connected(alice: Api) -> None:
    a = alice.create_prompt("one")
    b = alice.post(f"/api/v1/prompts/{a['id']}/revisions", json={"text": "two"}).json()
    c = alice.post(f"/api/v1/prompts/{b['id']}/revisions", json={"text": "three"}).json()
    alice.delete(f"/api/v1/prompts/{b['id']}", params={"purge": True})
    nodes = alice.get(f"/api/v1/prompts/{c['id']}/lineage").json()["data"]
    assert [n["id"] for n in nodes] == [a["id"], c["id"]]


def test_listing_pages_with_cursor(alice: Api) -> None:
    ids = [alice.create_prompt(f"prompt number {i}")["id"] for i in range(7)]
    assert _all_pages(alice, limit=3) == list(reversed(ids))
    oldest = alice.get("/api/v1/prompts", params={"sort": "oldest", "limit": 200}).json()
    assert [p["id"] for p in oldest["data"]] == ids


def test_relevance_pages_with_cursor(alice: Api) -> None:
    for i in range(5):
        alice.create_prompt(f"fox {i} " + "fox " * i)
    first = alice.get("/api/v1/prompts", params={"q": "fox", "limit": 2}).json()
    second = alice.get(
        "/api/v1/prompts", params={"q": "fox", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    third = alice.get(
        "/api/v1/prompts", params={"q": "fox", "limit": 2, "cursor": second["next_cursor"]}
    ).json()
    ids = [p["id"] for page in (first, second, third) for p in page["data"]]
    assert len(ids) == len(set(ids)) == 5
    assert third["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["garbage", "e30", "eyJ2IjoxfQ", "%%%", "x" * 400])
def test_bad_cursor_is_400(alice: Api, cursor: str) -> None:
    alice.create_prompt("a")
    r = alice.get("/api/v1/prompts", params={"cursor": cursor})
    assert r.status_code == 400
    assert r.json()["error"]["details"]["field"] == "cursor"


def test_cursor_from_another_query_is_400(alice: Api) -> None:
    for i in range(3):
        alice.create_prompt(f"fox {i}")
    cursor = alice.get("/api/v1/prompts", params={"limit": 1}).json()["next_cursor"]
    r = alice.get("/api/v1/prompts", params={"limit": 1, "cursor": cursor, "q": "fox"})
    assert r.status_code == 400


def test_filters(alice: Api, container: Container) -> None:
    project = alice.post("/api/v1/projects", json={"name": "Winter"}).json()
    a = alice.create_prompt(
        "snowy fox",
        tags=["fox", "snow"],
        category="animals",
        project_id=project["id"],
        starred=True,
    )
    b = alice.create_prompt("desert fox", tags=["fox"], category="animals")
    c = alice.create_prompt("city at night", tags=["city"], category="urban")
    alice.upload(png(color=(1, 1, 1)), prompt_id=b["id"], model="sdxl", model_version="1.0")

    def ids(**params: Any) -> set[str]:
        return {p["id"] for p in alice.search(**params)}

    assert ids(tag="fox") == {a["id"], b["id"]}
    assert ids(tag=["fox", "snow"]) == {a["id"]}
    assert ids(category="Animals") == {a["id"], b["id"]}
    assert ids(project=project["id"]) == {a["id"]}
    assert ids(starred=True) == {a["id"]}
    assert ids(starred=False) == {b["id"], c["id"]}
    assert ids(model="sdxl") == {b["id"]}
    assert ids(model="sdxl@1.0") == {b["id"]}
    assert ids(model="sdxl@2.0") == set()
    assert ids(q="fox", category="animals", starred=True) == {a["id"]}
    assert ids(since="2000-01-01T00:00:00Z") == {a["id"], b["id"], c["id"]}
    assert ids(until="2000-01-01T00:00:00Z") == set()
    r = alice.get("/api/v1/prompts", params={"since": "2030-01-01", "until": "2020-01-01"})
    assert r.status_code == 422
    tags = alice.get("/api/v1/tags").json()["data"]
    assert tags[0] == {"name": "fox", "count": 2}
    cats = alice.get("/api/v1/categories").json()["data"]
    assert cats == [{"name": "animals", "count": 2}, {"name": "urban", "count": 1}]
    projects = alice.get("/api/v1/projects").json()["data"]
    assert projects == [{**project, "prompt_count": 1}]


def test_project_rules(alice: Api) -> None:
    assert alice.post("/api/v1/projects", json={"name": "Winter"}).status_code == 201
    assert alice.post("/api/v1/projects", json={"name": "Winter"}).status_code == 409
    assert alice.post("/api/v1/projects", json={"name": "   "}).status_code == 422
    r = alice.post(
        "/api/v1/prompts", json={"text": "x", "project_id": "01m7yf121f41pmmnabp8402beg"}
    )
    assert r.status_code == 404
    assert _count(alice) == 0


BAD_BODIES: list[tuple[Any, int, str]] = [
    ({}, 422, "text"),
    ({"text": ""}, 422, "text"),
    ({"text": "   "}, 422, "text"),
    ({"text": "x" * 100_000}, 422, "text"),
    ({"text": 123}, 422, "text"),
    ({"text": ["a"]}, 422, "text"),
    ({"text": "ok", "tags": "notalist"}, 422, "tags"),
    ({"text": "ok", "tags": [1, 2]}, 422, "tags.0"),
    ({"text": "ok", "starred": "yes"}, 422, "starred"),
    ({"text": "ok", "rating": 9}, 422, "rating"),
    ({"text": "ok", "rating": "5"}, 422, "rating"),
    ({"text": "ok", "language": "not a code"}, 422, "language"),
    ({"text": "ok", "unknown_field": 1}, 422, "unknown_field"),
    ({"text": "ok", "negative_text": None}, 422, "negative_text"),
    ([1, 2], 422, ""),
    ("just a string", 422, ""),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_BODIES)
def test_bad_prompt_bodies_are_refused_and_store_nothing(
    alice: Api, body: Any, status: int, field: str
) -> None:
    r = alice.post("/api/v1/prompts", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input"
    if field:
        assert field in error["message"]
    assert _count(alice) == 0


def test_malformed_json_is_400(alice: Api) -> None:
    r = alice.post(
        "/api/v1/prompts",
        content=b'{"text": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"
    assert _count(alice) == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/v1/prompts/{id}", {"text": ""}),
        ("patch", "/api/v1/prompts/{id}", {"owner_id": "x"}),
        ("patch", "/api/v1/prompts/{id}", {"rating": -1}),
        ("patch", "/api/v1/prompts/{id}", {"text": None}),
        ("patch", "/api/v1/prompts/{id}", {"tags": None}),
        ("patch", "/api/v1/prompts/{id}", {"starred": None}),
        ("post", "/api/v1/prompts/{id}/revisions", {"text": None}),
        ("post", "/api/v1/prompts/{id}/revisions", {"starred": True}),
        ("post", "/api/v1/prompts/{id}/revisions", {"text": "y" * 40_000}),
    ],
)
def test_bad_edits_change_nothing(alice: Api, method: str, path: str, body: Any) -> None:
    p = alice.create_prompt("original text", tags=["t"])
    r = getattr(alice, method)(path.format(id=p["id"]), json=body)
    assert r.status_code == 422
    after = alice.get(f"/api/v1/prompts/{p['id']}").json()
    assert (after["text"], after["tags"], after["updated_at"]) == (
        "original text",
        ["t"],
        p["updated_at"],
    )
    assert _count(alice) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/prompts/nope",
        "/api/v1/prompts/01m7yf121f41pmmnabp8402beg",
        "/api/v1/prompts/../../etc",
        "/api/v1/prompts/%00",
    ],
)
def test_unknown_ids_are_404(alice: Api, path: str) -> None:
    r = alice.get(path)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_query_parameter_validation(alice: Api) -> None:
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"limit": "many"},
        {"sort": "random"},
        {"starred": "perhaps"},
        {"since": "yesterday"},
        {"q": "x" * 501},
    ):
        r = alice.get("/api/v1/prompts", params=params)
        assert r.status_code == 422, params
        assert r.json()["error"]["details"][0]["field"] in params


def test_tag_listing_pages_in_order(alice: Api) -> None:
    tagged = []
    for i in range(7):
        p = alice.create_prompt(f"fox {i}", tags=["fox", "even" if i % 2 == 0 else "odd"])
        alice.create_prompt(f"untagged {i}")
        tagged.append(p["id"])
    for tags, expected in ((["fox"], tagged), (["fox", "even"], tagged[::2])):
        assert _all_pages(alice, tag=tags, limit=2) == list(reversed(expected))


def test_date_range_listing_pages_in_order(alice: Api) -> None:
    ids = [alice.create_prompt(f"dated {i}")["id"] for i in range(7)]
    for sort, expected in (("newest", list(reversed(ids))), ("oldest", ids)):
        since = "2000-01-01T00:00:00Z"
        assert _all_pages(alice, since=since, limit=3, sort=sort) == expected


def test_nul_characters_in_filters_are_a_clear_422(alice: Api) -> None:
    alice.create_prompt("a fox", tags=["fox"])
    for params in ({"tag": "fo\x00x"}, {"category": "a\x00"}, {"model": "m\x00"}, {"q": "\x00fox"}):
        response = alice.get("/api/v1/prompts", params=params)
        assert response.status_code == 422, (params, response.text)
