"""Health, readiness, info, docs, the error shape, and the one-time login link."""

from __future__ import annotations

from fastapi.testclient import TestClient

from promptcanvas.bootstrap import Container
from promptcanvas.ports.clock import FakeClock
from tests.conftest import Api


def test_health_ready_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "storage": "ok"}
    spec = client.get("/openapi.json").json()
    for path in [
        "/api/v1/prompts",
        "/api/v1/prompts/{prompt_id}",
        "/api/v1/prompts/{prompt_id}/revisions",
        "/api/v1/prompts/{prompt_id}/lineage",
        "/api/v1/prompts/{prompt_id}/diff",
        "/api/v1/prompts/{prompt_id}/restore",
        "/api/v1/assets",
        "/api/v1/assets/{asset_id}",
        "/api/v1/assets/{asset_id}/content",
        "/api/v1/assets/{asset_id}/thumbnail",
        "/api/v1/projects",
        "/api/v1/tags",
        "/api/v1/categories",
        "/healthz",
        "/readyz",
        "/api/v1/info",
    ]:
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200


def test_info_has_no_secrets(alice: Api, container: Container) -> None:
    body = alice.get("/api/v1/info").json()
    assert body["mode"] == "embedded" if container.settings.database_kind == "sqlite" else "scaled"
    assert body["database"] == container.settings.database_kind
    assert body["storage"] == "local"
    assert alice.key not in str(body)
    assert "password" not in str(body).lower()


def test_unknown_route_and_method_use_the_error_shape(alice: Api) -> None:
    r = alice.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = alice.client.put("/api/v1/prompts", headers=alice.headers)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_login_link_is_one_time(container: Container, client: TestClient) -> None:
    container.users.add_user("dana")
    token = container.users.create_login_token("dana")
    home = client.get("/", params={"lang": "en"})
    assert "not signed in" in home.text
    r = client.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "pc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "dana" in client.get("/").text
    client.cookies.clear()
    again = client.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert again.status_code == 401
    korean = client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert "로그인되어 있지 않습니다" in korean.text


def test_login_link_expires(container: Container, client: TestClient) -> None:
    clock = FakeClock()
    container.users.clock = clock
    container.users.add_user("erin")
    token = container.users.create_login_token("erin")
    clock.advance(container.settings.login_link_ttl_seconds + 1)
    r = client.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert r.status_code == 401


def test_browser_session_calls_the_api_only_with_its_csrf_token(
    container: Container, client: TestClient
) -> None:
    from promptcanvas.domain.users import csrf_token

    container.users.add_user("fay")
    token = container.users.create_login_token("fay")
    client.get("/auth/login", params={"token": token}, follow_redirects=False)
    session = client.cookies.get("pc_session")
    assert session
    assert client.get("/api/v1/prompts").status_code == 200  # reading needs no token
    refused = client.post("/api/v1/prompts", json={"text": "a fox"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    wrong = client.post("/api/v1/prompts", json={"text": "a fox"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    assert client.get("/api/v1/prompts").json()["data"] == []  # nothing was created
    ok = client.post(
        "/api/v1/prompts", json={"text": "a fox"}, headers={"X-CSRF-Token": csrf_token(session)}
    )
    assert ok.status_code == 201
    # logout without the form's token is refused and the session stays alive
    assert client.post("/auth/logout", data={"csrf": "nope"}).status_code == 403
    assert client.get("/api/v1/prompts").status_code == 200
    out = client.post("/auth/logout", data={"csrf": csrf_token(session)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/prompts").status_code == 401
