"""Another user's data is a 404 everywhere; no API route works without a key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from promptcanvas.bootstrap import Container
from tests.conftest import Api
from tests.factories import png


@pytest.fixture
def alices_things(alice: Api) -> dict[str, Any]:
    project = alice.post("/api/v1/projects", json={"name": "secret project"}).json()
    prompt = alice.create_prompt(
        "alice's secret unicorn 유니콘", tags=["private"], project_id=project["id"]
    )
    other = alice.create_prompt("another of alice's prompts")
    asset = alice.upload(png(), prompt_id=prompt["id"]).json()
    return {"prompt": prompt, "other": other, "asset": asset, "project": project}


def test_bob_cannot_reach_alices_data(bob: Api, alice: Api, alices_things: dict[str, Any]) -> None:
    pid = alices_things["prompt"]["id"]
    aid = alices_things["asset"]["id"]
    proj = alices_things["project"]["id"]
    calls = [
        ("get", f"/api/v1/prompts/{pid}", None),
        ("patch", f"/api/v1/prompts/{pid}", {"tags": ["pwned"]}),
        ("delete", f"/api/v1/prompts/{pid}", None),
        ("post", f"/api/v1/prompts/{pid}/restore", None),
        ("post", f"/api/v1/prompts/{pid}/revisions", {"text": "mine now"}),
        ("get", f"/api/v1/prompts/{pid}/lineage", None),
        ("get", f"/api/v1/prompts/{pid}/diff?against={pid}", None),
        ("get", f"/api/v1/assets/{aid}", None),
        ("get", f"/api/v1/assets/{aid}/content", None),
        ("get", f"/api/v1/assets/{aid}/thumbnail", None),
        ("get", f"/api/v1/projects/{proj}", None),
    ]
    for method, url, body in calls:
        kwargs = {"json": body} if body is not None else {}
        r = getattr(bob, method)(url, **kwargs)
        assert r.status_code == 404, (method, url, r.status_code)
        assert "unicorn" not in r.text
    purge = bob.delete(f"/api/v1/prompts/{pid}", params={"purge": True})
    assert purge.status_code == 404
    own = bob.create_prompt("bob's prompt")
    r = bob.get(f"/api/v1/prompts/{own['id']}/diff", params={"against": pid})
    assert r.status_code == 404
    assert bob.upload(png(color=(9, 9, 9)), prompt_id=pid).status_code == 404
    r = bob.post("/api/v1/prompts", json={"text": "x", "project_id": proj})
    assert r.status_code == 404
    assert bob.search() == [bob.search()[0]] and bob.search()[0]["id"] == own["id"]
    assert bob.search(q="unicorn") == []
    assert bob.search(q="유니콘") == []
    assert bob.search(project=proj) == []
    assert bob.get("/api/v1/tags").json()["data"] == []
    assert bob.get("/api/v1/projects").json()["data"] == []
    # and alice's data is untouched
    after = alice.get(f"/api/v1/prompts/{pid}").json()
    assert after["tags"] == ["private"] and after["deleted_at"] is None
    lineage = alice.get(f"/api/v1/prompts/{pid}/lineage").json()["data"]
    assert len(lineage) == 1


def test_same_bytes_give_each_user_their_own_asset(
    alice: Api, bob: Api, alices_things: dict[str, Any]
) -> None:
    mine = bob.upload(png())
    assert mine.status_code == 201
    assert mine.json()["id"] != alices_things["asset"]["id"]
    assert mine.json()["sha256"] == alices_things["asset"]["sha256"]


def _routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if path.startswith("/api/")
    ]


def test_every_api_route_needs_a_key(client: TestClient, container: Container) -> None:
    routes = _routes(client)
    assert len(routes) >= 15
    fake_id = "01m7yf121f41pmmnabp8402beg"
    for method, path in routes:
        url = path.replace("{prompt_id}", fake_id).replace("{asset_id}", fake_id)
        url = url.replace("{project_id}", fake_id)
        for headers in (
            {},
            {"Authorization": "Bearer pck_wrong"},
            {"Authorization": "Basic YWRtaW46YWRtaW4="},
        ):
            r = client.request(method.upper(), url, headers=headers)
            assert r.status_code == 401, (method, url, headers, r.status_code)
            assert r.json()["error"]["code"] == "unauthenticated"


def test_revoked_key_stops_working(container: Container, client: TestClient) -> None:
    container.users.add_user("carol")
    created = container.users.create_key("carol")
    headers = {"Authorization": f"Bearer {created.secret}"}
    assert client.get("/api/v1/prompts", headers=headers).status_code == 200
    container.users.revoke_key(created.key.user_id, created.key.id)
    assert client.get("/api/v1/prompts", headers=headers).status_code == 401
