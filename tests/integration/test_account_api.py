"""API keys of the signed-in user (/api/v1/keys) and the providers list (/api/v1/providers)."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi.testclient import TestClient

from promptcanvas.adapters.providers.openai import OpenAIProvider
from promptcanvas.adapters.providers.sdwebui import SdWebUIProvider
from promptcanvas.bootstrap import Container, build_provider
from promptcanvas.domain.users import csrf_token
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ProviderConfig
from tests.conftest import Api


def test_create_list_and_revoke_a_key(
    client: TestClient, alice: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = alice.post("/api/v1/keys", json={"name": "  laptop script "})
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("pck_") and body["prefix"] == secret[:12]
    assert body["name"] == "laptop script" and body["revoked"] is False

    new_key = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/keys", headers=new_key).status_code == 200
    listed = alice.get("/api/v1/keys")
    assert listed.status_code == 200
    assert secret not in listed.text and "secret" not in listed.text
    rows = {k["id"]: k for k in listed.json()["data"]}
    assert rows[body["id"]]["last_used_at"] is not None  # it was used just now
    assert len(rows) == 2  # alice's first key from the fixture, and this one

    assert alice.delete(f"/api/v1/keys/{body['id']}").status_code == 204
    refused = client.get("/api/v1/keys", headers=new_key)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"
    after = {k["id"]: k for k in alice.get("/api/v1/keys").json()["data"]}
    assert after[body["id"]]["revoked"] is True and after[body["id"]]["revoked_at"]
    assert alice.delete(f"/api/v1/keys/{body['id']}").status_code == 404  # already revoked
    assert secret not in caplog.text


def test_other_users_keys_are_not_found(alice: Api, bob: Api) -> None:
    bobs = bob.post("/api/v1/keys", json={"name": "bob's"}).json()
    assert alice.delete(f"/api/v1/keys/{bobs['id']}").status_code == 404
    assert bobs["id"] not in alice.get("/api/v1/keys").text
    assert bob.get("/api/v1/keys").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "tab\there"},
        {"name": 5},
        {"name": "ok", "admin": True},
    ],
)
def test_bad_key_requests_get_422_and_change_nothing(alice: Api, body: dict[str, object]) -> None:
    before = alice.get("/api/v1/keys").json()["data"]
    response = alice.post("/api/v1/keys", json=body)
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert alice.get("/api/v1/keys").json()["data"] == before


@pytest.mark.parametrize("key_id", ["nope", "0" * 26, "x" * 5000])
def test_revoking_unknown_ids_is_404(alice: Api, key_id: str) -> None:
    assert alice.delete(f"/api/v1/keys/{key_id}").status_code == 404


def test_browser_session_needs_its_csrf_token(container: Container, client: TestClient) -> None:
    container.users.add_user("carol")
    token = container.users.create_login_token("carol")
    assert client.get(f"/auth/login?token={token}", follow_redirects=False).status_code == 303
    assert client.post("/api/v1/keys", json={"name": "x"}).status_code == 403
    session = client.cookies.get("pc_session")
    assert session
    made = client.post(
        "/api/v1/keys", json={"name": "x"}, headers={"X-CSRF-Token": csrf_token(session)}
    )
    assert made.status_code == 201
    assert client.get("/api/v1/keys").status_code == 200


def test_providers_list_survives_a_provider_that_is_down(container: Container, alice: Api) -> None:
    down = ProviderConfig(
        name="studio", adapter="sdwebui", base_url="http://127.0.0.1:9", timeout_seconds=5
    )
    container.registry.entries["studio"] = ProviderEntry(down, build_provider(down))
    response = alice.get("/api/v1/providers")
    assert response.status_code == 200, response.text
    found = {p["name"]: p for p in response.json()["data"]}
    assert found["local"]["health"]["ok"] is True
    assert found["local"]["offline"] is True and found["local"]["models"]
    assert found["studio"]["health"]["ok"] is False
    assert "cannot connect" in found["studio"]["health"]["detail"]
    quick = alice.get("/api/v1/providers", params={"health": "false"}).json()["data"]
    assert all(p["health"] is None for p in quick)
    assert alice.get("/api/v1/providers", params={"health": "maybe"}).status_code == 422
    assert alice.client.get("/api/v1/providers").status_code == 401


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, None), (404, None), (401, "refused the credentials"), (503, "failing")],
)
def test_health_probes_read_the_answer(status: int, expected: str | None) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"data": [], "object": "list"})

    sd = ProviderConfig(name="sd", adapter="sdwebui", base_url="http://sd.test")
    oa = ProviderConfig(name="oa", adapter="openai", base_url="http://oa.test/v1")
    adapters = [
        SdWebUIProvider(sd, transport=httpx.MockTransport(answer)),
        OpenAIProvider(oa, http_client=httpx.Client(transport=httpx.MockTransport(answer))),
    ]
    for adapter in adapters:
        reason = adapter.health(1.0)
        assert reason is None if expected is None else expected in (reason or ""), reason
