"""The authorisation matrix, generated from the app's route table.

Every route that takes an id answers another user 404 and leaves the owner's data as it was;
every state-changing route needs credentials, and a browser session needs its CSRF token.
A new route is covered as soon as it exists: an id parameter this file cannot make an object
for, or a route it does not know, fails the test and says what to add.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from promptcanvas.bootstrap import Container
from promptcanvas.domain.users import csrf_token
from tests.conftest import Api, make_api
from tests.factories import png

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Routes anyone may call: signing in, the shared portfolio pages, health, docs, metrics.
PUBLIC = {
    "/auth/login",
    "/auth/logout",
    "/p/{token}",
    "/p/{token}/i/{asset_id}",
    "/p/{token}/t/{asset_id}",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}
# Request bodies and queries valid apart from whose ids they name, so a 404 is about the id.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/prompts/{prompt_id}"): {"json": {"tags": ["pwned"]}},
    ("POST", "/api/v1/prompts/{prompt_id}/revisions"): {"json": {"text": "mine now"}},
    ("GET", "/api/v1/prompts/{prompt_id}/diff"): {"params": {"against": "{prompt_id}"}},
    ("PATCH", "/api/v1/portfolios/{portfolio_id}"): {"json": {"title": "pwned"}},
    ("POST", "/api/v1/portfolios/{portfolio_id}/items"): {
        "json": {"generation_ids": ["{generation_id}"]}
    },
}


def _alices_objects(alice: Api) -> dict[str, str]:
    """One object of alice's for every id parameter name the routes use."""

    def made(response: Any) -> dict[str, Any]:
        assert response.status_code in (200, 201, 202), response.text
        return response.json()  # type: ignore[no-any-return]

    project = made(alice.post("/api/v1/projects", json={"name": "alice's project"}))
    prompt = alice.create_prompt("alice's secret unicorn", project_id=project["id"])
    uploaded = made(alice.upload(png(), prompt_id=prompt["id"]))
    portfolio = made(
        alice.post("/api/v1/portfolios", json={"title": "alice's", "prompt_ids": [prompt["id"]]})
    )
    job = made(alice.post("/api/v1/generations", json={"prompt_id": prompt["id"]}))
    target = {"provider": "local", "model": "sketch", "model_version": "2"}
    batch = made(
        alice.post("/api/v1/batches", json={"prompt_ids": [prompt["id"]], "target": target})
    )
    key = made(alice.post("/api/v1/keys", json={"name": "spare"}))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("old/fox.png", png(color=(1, 2, 3)))
    imported = made(alice.post("/api/v1/imports", files={"file": ("old.zip", archive.getvalue())}))
    return {
        "prompt_id": prompt["id"],
        "asset_id": uploaded["id"],
        "generation_id": uploaded["generation_id"],
        "project_id": project["id"],
        "portfolio_id": portfolio["id"],
        "job_id": job["job_id"],
        "batch_id": batch["id"],
        "key_id": key["id"],
        "import_id": imported["id"],
    }


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every APIRoute the app serves."""
    app: Any = client.app
    while not isinstance(app, FastAPI):
        app = app.app  # the middleware around the FastAPI app
    found = []
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format:
            found += [(m, context.path_format) for m in sorted(route.methods - {"HEAD"})]
    return found


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _request(method: str, path: str, ids: dict[str, str]) -> tuple[str, dict[str, Any]]:
    unknown = [p for p in _params(path) if p not in ids]
    assert not unknown, (
        f"{method} {path} takes {unknown}: add how to make such an object to _alices_objects"
    )
    url = path.format(**ids)
    extra = BODIES.get((method, path), {"json": {}} if method in {"POST", "PATCH"} else {})
    filled = {k: _fill(part, ids) for k, part in extra.items()}
    return url, filled


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _snapshot(alice: Api, ids: dict[str, str]) -> list[Any]:
    """What alice sees of her things (key use times left out: reading them is a use)."""
    urls = [
        f"/api/v1/prompts/{ids['prompt_id']}",
        f"/api/v1/prompts/{ids['prompt_id']}/lineage",
        "/api/v1/prompts?trashed=true",
        f"/api/v1/assets/{ids['asset_id']}",
        f"/api/v1/generations/{ids['generation_id']}",
        f"/api/v1/projects/{ids['project_id']}",
        f"/api/v1/portfolios/{ids['portfolio_id']}",
        f"/api/v1/jobs/{ids['job_id']}",
        f"/api/v1/batches/{ids['batch_id']}",
        "/api/v1/outputs",
    ]
    seen: list[Any] = []
    for url in urls:
        response = alice.get(url)
        assert response.status_code == 200, (url, response.text)
        seen.append(response.json())
    keys = alice.get("/api/v1/keys").json()["data"]
    seen.append([{k: v for k, v in key.items() if k != "last_used_at"} for key in keys])
    return seen


def _sign_in(container: Container, client: TestClient, name: str) -> str:
    token = container.users.create_login_token(name)
    client.get("/auth/login", params={"token": token}, follow_redirects=False)
    session = client.cookies.get("pc_session")
    assert session
    return session


def test_another_users_ids_answer_404_on_every_route(
    container: Container, client: TestClient, alice: Api
) -> None:
    ids = _alices_objects(alice)
    before = _snapshot(alice, ids)
    bob = make_api(container, client, "bob")
    _sign_in(container, client, "bob")  # bob's browser session, for the web pages
    tried = 0
    for method, path in _routes(client):
        if path in PUBLIC or not _params(path):
            continue
        url, extra = _request(method, path, ids)
        if path.startswith("/api/v1/"):
            response = bob.client.request(method, url, headers=bob.headers, **extra)
        else:
            response = client.request(method, url, **extra)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert "unicorn" not in response.text, (method, path)
        tried += 1
    assert tried >= 40, f"only {tried} id routes: is the route table being read?"
    assert _snapshot(alice, ids) == before


def test_every_state_changing_route_needs_credentials_and_csrf(
    container: Container, client: TestClient, alice: Api
) -> None:
    ids = _alices_objects(alice)
    before = _snapshot(alice, ids)
    writes = [(m, p) for m, p in _routes(client) if m in WRITES and p.startswith("/api/v1/")]
    assert len(writes) >= 25, writes
    anonymous = TestClient(client.app)
    for method, path in writes:
        url, extra = _request(method, path, ids)
        response = anonymous.request(method, url, **extra)
        assert response.status_code == 401, (method, path, response.status_code)
    session = _sign_in(container, client, "alice")
    for method, path in writes:
        url, extra = _request(method, path, ids)
        response = client.request(method, url, **extra)
        assert response.status_code == 403, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "forbidden"
    assert _snapshot(alice, ids) == before
    # with the token every one of them gets past authorisation (deletions last)
    token = {"X-CSRF-Token": csrf_token(session)}
    for method, path in sorted(writes, key=lambda w: w[0] == "DELETE"):
        url, extra = _request(method, path, ids)
        response = client.request(method, url, headers=token, **extra)
        assert response.status_code not in (401, 403), (method, path, response.text)


def test_browser_forms_need_their_csrf_field(container: Container, client: TestClient) -> None:
    forms = [(m, p) for m, p in _routes(client) if m in WRITES and not p.startswith("/api/")]
    assert forms, "no web form routes found"
    container.users.add_user("carol")
    session = _sign_in(container, client, "carol")
    for method, path in forms:
        if path == "/auth/logout":
            continue  # checked last: it ends the session the others need
        response = client.request(method, path, data={"name": "x", "title": "x"})
        assert response.status_code == 403, (method, path, response.status_code)
    assert client.get("/api/v1/projects").json()["data"] == []
    assert client.get("/api/v1/portfolios").json()["data"] == []
    response = client.post("/auth/logout", data={})
    assert response.status_code == 403
    assert client.get("/api/v1/projects").status_code == 200  # still signed in
    response = client.post("/auth/logout", data={"csrf": csrf_token(session)})
    assert response.status_code < 400
    assert client.get("/api/v1/projects").status_code == 401
