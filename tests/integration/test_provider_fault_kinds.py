"""Every injected fault against every HTTP adapter (OpenAI, AUTOMATIC1111, ComfyUI), through the
real job runner over real HTTP: the error kind the adapter reports, how many attempts the
retry policy makes, and how the job ends.

Decisions these tests pin down:
- a 5xx, a connection reset and a malformed 200 (not JSON, wrong shape, cut short, base64 of
  bytes that are no image) are `unavailable`; a stall and a body that trickles slower than
  the timeout are `timeout`; a 429 is `rate_limited` and the retry waits its Retry-After.
  All are retryable: the job uses every attempt the policy allows, then fails.
- content rejections and invalid requests are not retried.

A fake clock drives the retry schedule, so only the timeouts take real time. The circuit
breaker is off here (test_circuit_breaker.py covers it).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from promptcanvas.adapters.providers.comfyui import ComfyUIProvider
from promptcanvas.bootstrap import Container, bootstrap, build_provider
from promptcanvas.ports.clock import FakeClock
from promptcanvas.ports.providers import ProviderBase
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ModelConfig, ProviderConfig, Settings
from tests.conftest import Api
from tests.fakes import comfyui_server, sdwebui_server
from tests.fakes.openai_server import FakeServer, running_fake_openai

# A provider call's whole budget: at 0.5 s a loaded CI machine once ran out of it on a
# malformed answer (timeout instead of unavailable).
TIMEOUT = 1.0
ATTEMPTS = 2
RETRY_AFTER = 7.0
OPENAI_KEY_ENV = "PROMPTCANVAS_TEST_FAULT_KINDS_KEY"
OPENAI_KEY = "sk-test-fault-kinds-41c2"
MISSING = "not-on-the-server.safetensors"  # configured here, unknown to the fake
MALFORMED = ("not_json", "wrong_shape", "truncated", "bad_base64")


@dataclass
class Server:
    """A running fake: how to set its faults, forget them, and what a job sends it."""

    adapter: str
    url: str
    configure: Callable[[dict[str, Any]], None]
    reset: Callable[[], None]
    model: str
    params: dict[str, Any]

    def faults(self, fault: str) -> dict[str, Any]:
        """The fault settings that inject `fault` on every request."""
        if self.adapter == "openai":
            return {
                "rate_500": {"rate_500": 1.0},
                "429": {"rate_429": 1.0, "retry_after": f"{RETRY_AFTER:g}"},
                "stall": {"rate_timeout": 1.0, "stall_seconds": 4 * TIMEOUT},
                "reset": {"rate_reset": 1.0},
                "slow_stream": {"slow_stream_seconds": 10 * 2 * TIMEOUT},  # 10 pieces
            }.get(fault) or {"rate_malformed": 1.0, "malformed_kind": fault}
        return {
            "rate_500": {"error_rate": 1.0},
            "429": {"rate_limit_rate": 1.0, "retry_after": RETRY_AFTER},
            "stall": {"delay_seconds": 4 * TIMEOUT},
            "reset": {"reset_rate": 1.0},
            "slow_stream": {"slow_stream_seconds": 2 * TIMEOUT},  # per piece
        }.get(fault) or {"malformed_rate": 1.0, "malformed": fault}


def _post(url: str, path: str, body: Any = None) -> None:
    httpx.post(f"{url}{path}", json=body).raise_for_status()


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeServer]:
    with running_fake_openai(api_key=OPENAI_KEY, reject_marker="forbidden") as server:
        yield server


@pytest.fixture(scope="module")
def sdwebui_fake() -> Iterator[str]:
    with sdwebui_server.running_fake_sdwebui() as url:
        yield url


@pytest.fixture(scope="module")
def comfyui_fake() -> Iterator[str]:
    with comfyui_server.running_fake_comfyui(run_seconds=0.01) as url:
        yield url


@pytest.fixture(params=["openai", "sdwebui", "comfyui"])
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    kind = request.param
    if kind == "openai":
        fake: FakeServer = request.getfixturevalue("openai_fake")
        monkeypatch.setenv(OPENAI_KEY_ENV, OPENAI_KEY)
        found = Server(
            kind,
            fake.api_url,
            lambda f: fake.configure(**f),
            fake.reset,
            "dall-e-2",
            {"size": "256x256"},
        )
    else:
        url: str = request.getfixturevalue(f"{kind}_fake")
        model = (sdwebui_server if kind == "sdwebui" else comfyui_server).CHECKPOINTS[0]
        found = Server(
            kind,
            url,
            lambda f: _post(url, "/_fake/config", f),
            lambda: _post(url, "/_fake/reset"),
            model,
            {"width": 64, "height": 64},
        )
    found.reset()
    yield found
    found.reset()


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the database plays no part in how provider faults are mapped."""
    path = tmp_path / "promptcanvas.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def container(settings: Settings, clock: FakeClock, server: Server) -> Iterator[Container]:
    settings = settings.model_copy(
        update={"breaker_threshold": 0, "job_max_attempts": ATTEMPTS, "retry_base_seconds": 1.0}
    )
    c = bootstrap(settings, clock=clock)
    config = ProviderConfig(
        name="remote",
        adapter=server.adapter,  # type: ignore[arg-type]
        base_url=server.url,
        api_key_env=OPENAI_KEY_ENV if server.adapter == "openai" else None,
        models={server.model: ModelConfig()}
        if server.adapter == "openai"
        else {server.model: ModelConfig(), MISSING: ModelConfig()},
        timeout_seconds=TIMEOUT,
    )
    adapter: ProviderBase = (
        ComfyUIProvider(config, poll_interval=0.02)
        if server.adapter == "comfyui"
        else build_provider(config)
    )
    c.registry.entries["remote"] = ProviderEntry(config, adapter)
    yield c
    c.close()


def run(api: Api, container: Container, clock: FakeClock, server: Server, **extra: Any) -> Any:
    """Submit one job and run it to its end, moving the fake clock over every retry delay."""
    body = {"provider": "remote", "model": server.model, "params": dict(server.params)}
    body["text"] = extra.pop("text", "a paper boat on a pond")
    body.update(extra)
    queued = api.post("/api/v1/generations", json=body)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job_id"]
    for _ in range(10):
        while container.runner.run_next():
            pass
        job = api.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("SUCCESS", "FAILURE"):
            return job
        clock.advance(60)
    raise AssertionError(f"the job never ended: {job}")


EXPECTED = {
    "rate_500": "unavailable",
    "429": "rate_limited",
    "stall": "timeout",
    "reset": "unavailable",
    "slow_stream": "timeout",
    **dict.fromkeys(MALFORMED, "unavailable"),
}


@pytest.mark.parametrize("fault", list(EXPECTED))
def test_each_fault_is_reported_as_its_kind_and_retried_by_policy(
    container: Container, alice: Api, clock: FakeClock, server: Server, fault: str
) -> None:
    server.configure(server.faults(fault))
    job = run(alice, container, clock, server)
    kind = EXPECTED[fault]
    log = job["attempt_log"]
    assert job["status"] == "FAILURE", job
    assert [a["outcome"] for a in log] == [kind] * ATTEMPTS, job
    assert job["attempts"] == ATTEMPTS and job["error_kind"] == kind
    # The adapter named the fault itself: nothing fell through as an unexpected exception.
    assert "unexpectedly" not in job["error"] and job["error"] != "internal error", job
    assert OPENAI_KEY not in str(job)
    if fault == "429":  # the retry waited at least what the provider asked
        gap = datetime.fromisoformat(log[1]["started_at"]) - datetime.fromisoformat(
            log[0]["finished_at"]
        )
        assert gap.total_seconds() >= RETRY_AFTER, log
    for gen_id in job["generation_ids"]:
        gen = alice.get(f"/api/v1/generations/{gen_id}").json()
        assert gen["status"] == "FAILURE" and gen["assets"] == []


@pytest.mark.parametrize("fault", ["reset", "truncated", "slow_stream"])
def test_a_passing_fault_costs_one_attempt_then_the_job_succeeds(
    container: Container, alice: Api, clock: FakeClock, server: Server, fault: str
) -> None:
    server.configure(server.faults(fault))
    body = {"provider": "remote", "model": server.model, "params": dict(server.params)}
    body["text"] = "a lantern in fog"
    job_id = alice.post("/api/v1/generations", json=body).json()["job_id"]
    assert container.runner.run_next()
    server.reset()  # healed before the retry
    clock.advance(60)
    while container.runner.run_next():
        pass
    job = alice.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "SUCCESS", job
    assert [a["outcome"] for a in job["attempt_log"]] == [EXPECTED[fault], "success"]
    (gen_id,) = job["generation_ids"]
    assert len(alice.get(f"/api/v1/generations/{gen_id}").json()["assets"]) == 1


def test_refusals_are_not_retried(
    container: Container, alice: Api, clock: FakeClock, server: Server
) -> None:
    if server.adapter == "openai":  # the content policy: a prompt holding the marker
        job = run(alice, container, clock, server, text="a forbidden symbol")
        kind = "content_rejected"
    else:  # a checkpoint the server does not have (web UI: 404, ComfyUI: 400)
        job = run(alice, container, clock, server, model=MISSING)
        kind = "invalid_request"
    assert job["status"] == "FAILURE", job
    assert job["attempts"] == 1 and job["error_kind"] == kind, job
