"""Per-caller rate limits: 429 with Retry-After, per key, refilled with time, and harmless.

Each test runs on the in-process limiter (embedded) and on Redis (shared by API replicas,
db 10, flushed first); both read a fake clock, so "waiting" is a clock step.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from promptcanvas.adapters.ratelimit.memory import MemoryRateLimiter
from promptcanvas.adapters.ratelimit.redis import RedisRateLimiter
from promptcanvas.bootstrap import Container
from promptcanvas.entrypoints.api.deps import SESSION_COOKIE
from tests import factories
from tests.conftest import Api, make_api
from tests.integration.conftest import free_port

REDIS_URL = os.environ.get("PROMPTCANVAS_TEST_REDIS_URL")


class Clock:
    """Seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Limits do not depend on the database: SQLite only, to keep this module quick."""
    path = tmp_path / "promptcanvas.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, container: Container, clock: Clock) -> Iterator[str]:
    """Small limits (3 requests, then 1 a second; uploads 2, then 1 every 10 s) on a fake clock."""
    container.settings = container.settings.model_copy(
        update={
            "rate_limit_per_second": 1.0,
            "rate_limit_burst": 3,
            "rate_limit_heavy_per_second": 0.1,
            "rate_limit_heavy_burst": 2,
        }
    )
    if request.param == "memory":
        container.rate_limiter = MemoryRateLimiter(clock=clock)
        yield "memory"
        return
    if not REDIS_URL:
        pytest.skip("PROMPTCANVAS_TEST_REDIS_URL is not set, so the Redis variant is skipped")
    url = REDIS_URL.rsplit("/", 1)[0] + "/10"
    redis.Redis.from_url(url).flushdb()
    limiter = RedisRateLimiter(url, clock=clock)
    container.rate_limiter = limiter
    yield "redis"
    limiter.client.flushdb()
    limiter.client.close()


def refused(response: object) -> int:
    """Assert a 429 in the error shape; the Retry-After seconds."""
    assert response.status_code == 429, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "rate_limited"
    assert set(error) == {"code", "message", "details"}
    retry_after = response.headers["retry-after"]  # type: ignore[attr-defined]
    assert retry_after.isdigit() and int(retry_after) >= 1
    assert error["details"]["retry_after"] == int(retry_after)
    return int(retry_after)


def test_over_the_limit_is_429_until_the_bucket_refills(
    limited: str, alice: Api, clock: Clock
) -> None:
    for _ in range(3):
        assert alice.get("/api/v1/prompts").status_code == 200
    assert refused(alice.get("/api/v1/prompts")) == 1
    clock.now += 0.5
    assert refused(alice.get("/api/v1/prompts")) == 1  # half a token: still refused
    clock.now += 0.5
    assert alice.get("/api/v1/prompts").status_code == 200
    refused(alice.get("/api/v1/prompts"))
    clock.now += 60  # refills to the burst, no further
    for _ in range(3):
        assert alice.get("/api/v1/prompts").status_code == 200
    refused(alice.get("/api/v1/prompts"))


def test_another_key_is_unaffected(
    limited: str, alice: Api, container: Container, client: TestClient
) -> None:
    bob = make_api(container, client, "bob")
    second_key = Api(client, container.users.create_key("alice").secret, alice.user_id)
    for _ in range(3):
        alice.get("/api/v1/prompts")
    refused(alice.get("/api/v1/prompts"))
    for api in (bob, second_key):
        for _ in range(3):
            assert api.get("/api/v1/prompts").status_code == 200


def test_a_refused_request_changes_nothing(limited: str, alice: Api, clock: Clock) -> None:
    prompt = alice.create_prompt("kept")
    alice.get("/api/v1/prompts")
    alice.get("/api/v1/prompts")
    refused(alice.post("/api/v1/prompts", json={"text": "never stored"}))
    refused(alice.patch(f"/api/v1/prompts/{prompt['id']}", json={"tags": ["never"]}))
    refused(alice.delete(f"/api/v1/prompts/{prompt['id']}"))
    clock.now += 3
    listed = alice.search()
    assert [p["text"] for p in listed] == ["kept"]
    assert listed[0]["tags"] == []


def test_uploads_have_a_lower_limit_of_their_own(
    limited: str, alice: Api, container: Container, clock: Clock
) -> None:
    assert alice.upload(factories.png(color=(1, 2, 3))).status_code == 201
    clock.now += 1
    assert alice.upload(factories.png(color=(4, 5, 6))).status_code == 201
    clock.now += 1
    wait = refused(alice.upload(factories.png(color=(7, 8, 9))))
    assert wait == 8  # 0.2 tokens after 2 s at 1 every 10 s
    assert alice.get("/api/v1/prompts").status_code == 200  # reading is still allowed
    assert len(list(container.storage.list("blobs/"))) == 2
    clock.now += 8
    assert alice.upload(factories.png(color=(7, 8, 9))).status_code == 201


def test_health_metrics_and_static_files_are_never_limited(
    limited: str, client: TestClient
) -> None:
    for _ in range(3):
        client.get("/")
    refused(client.get("/"))  # signed out: limited by address
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.get("/static/app.js").status_code == 200


def test_a_browser_session_has_its_own_bucket(
    limited: str, container: Container, client: TestClient, alice: Api, clock: Clock
) -> None:
    container.users.add_user("dana")
    token = container.users.create_login_token("dana")
    assert (
        client.get("/auth/login", params={"token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.cookies.get(SESSION_COOKIE)
    clock.now += 60  # the address's bucket, which signing in used, is full again
    # The session proves itself on the API (its first request also spends from the address's
    # bucket); from then on it is a caller of its own.
    assert client.get("/api/v1/prompts").status_code == 200
    for _ in range(2):
        assert client.get("/settings").status_code == 200
    refused(client.get("/settings"))
    refused(client.get("/api/v1/prompts"))
    # So is alice's key, whatever the session did.
    for _ in range(3):
        assert alice.get("/api/v1/prompts").status_code == 200
    refused(alice.get("/api/v1/prompts"))


def test_made_up_credentials_share_their_addresss_bucket(limited: str, client: TestClient) -> None:
    # A new invented key per request must not get a new, full bucket each time.
    statuses = [
        client.get(
            "/api/v1/prompts", headers={"Authorization": f"Bearer pc_made_up_{i}"}
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    for i in range(2):
        client.cookies.set(SESSION_COOKIE, f"made-up-{i}")
        assert client.get("/p/whatever").status_code == 429


def test_a_rate_of_zero_turns_the_limit_off(limited: str, alice: Api, container: Container) -> None:
    container.settings = container.settings.model_copy(update={"rate_limit_per_second": 0.0})
    for _ in range(10):
        assert alice.get("/api/v1/prompts").status_code == 200


def test_requests_still_pass_when_redis_is_down(container: Container, alice: Api) -> None:
    """A rate limiter is a guard, not a dependency: an unreachable Redis lets requests through."""
    container.settings = container.settings.model_copy(
        update={"rate_limit_per_second": 1.0, "rate_limit_burst": 1}
    )
    container.rate_limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(3):
        assert alice.get("/api/v1/prompts").status_code == 200
