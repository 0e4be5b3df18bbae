"""The per-provider circuit breaker, end to end: real jobs through the real runner against the
fake web UI over HTTP, on a fake clock (so open intervals pass without sleeping).

The breaker opens after K unhealthy answers in a row; while it is open the fake sees no
request at all; jobs go to their fallback, or wait without an attempt counted; after the open
interval one probe goes through; a failed probe reopens it for twice as long; once the fake
heals the probe closes it and the waiting jobs run. Once with the in-process breaker, once
with the Redis one (shared by every worker), plus the Redis breaker seen from two workers.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from promptcanvas.adapters.throttle.breaker_memory import MemoryBreaker
from promptcanvas.adapters.throttle.breaker_redis import RedisBreaker
from promptcanvas.bootstrap import Container, bootstrap, build_provider
from promptcanvas.domain.breaker import BreakerPolicy, Circuit, Outcome
from promptcanvas.ports.breaker import CircuitBreaker
from promptcanvas.ports.clock import FakeClock
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ModelConfig, ProviderConfig, Settings
from tests.conftest import Api
from tests.fakes.sdwebui_server import CHECKPOINTS, running_fake_sdwebui

REDIS_URL = os.environ.get("PROMPTCANVAS_TEST_REDIS_URL")
REDIS_SKIP = "PROMPTCANVAS_TEST_REDIS_URL is not set, so the Redis breaker is not tested"
K = 3  # unhealthy answers in a row that open the breaker
OPEN = 30.0
GPU = "gpu"
MODEL = CHECKPOINTS[0]
TXT2IMG = "/sdapi/v1/txt2img"


def redis_db9() -> str:
    """The test Redis with db index 9 (this module's own).

    Not flushed: each test's breakers use keys of their own (a fresh prefix), so runs that
    share the db (two checkouts, CI next to a developer) cannot disturb each other, which a
    flush in one would. The keys expire by themselves.
    """
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP)
    return str(httpx.URL(REDIS_URL).copy_with(path="/9"))


class Fake:
    """The running fake web UI: its faults and the generation calls it saw."""

    def __init__(self, url: str) -> None:
        self.url = url

    def faults(self, **changes: Any) -> None:
        httpx.post(f"{self.url}/_fake/config", json=changes).raise_for_status()

    def calls(self) -> int:
        seen = httpx.get(f"{self.url}/_fake/requests").json()
        return sum(1 for r in seen if r["path"] == TXT2IMG)


@pytest.fixture
def fake() -> Iterator[Fake]:
    with running_fake_sdwebui() as url:
        yield Fake(url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    changes: dict[str, Any] = {
        "breaker_threshold": K,
        "breaker_open_seconds": OPEN,
        "breaker_max_open_seconds": 4 * OPEN,
        "job_max_attempts": 2,
        "retry_base_seconds": 1.0,  # a retry is due 1 to 1.25 s later on the fake clock
        "retry_max_seconds": 1.0,
    }
    if request.param == "redis":
        changes["redis_url"] = redis_db9()
    return settings.model_copy(update=changes)


@pytest.fixture
def container(settings: Settings, clock: FakeClock, fake: Fake) -> Iterator[Container]:
    c = bootstrap(settings, clock=clock)
    breaker = c.runner.breaker
    assert isinstance(breaker, RedisBreaker if settings.redis_url else MemoryBreaker)
    if isinstance(breaker, RedisBreaker):  # keys of its own, should another run share the db
        breaker.prefix += f"{uuid.uuid4().hex}:"
    config = ProviderConfig(
        name=GPU,
        adapter="sdwebui",
        base_url=fake.url,
        models={MODEL: ModelConfig()},
        timeout_seconds=5,
    )
    c.registry.entries[GPU] = ProviderEntry(config, build_provider(config))
    yield c
    c.close()


def submit(api: Api, count: int, *, fallback: bool = False) -> list[str]:
    ids = []
    for i in range(count):
        body: dict[str, Any] = {
            "provider": GPU,
            "model": MODEL,
            "text": f"a harbour at night, study {i}",
            "params": {"width": 64, "height": 64},
        }
        if fallback:
            body["fallback"] = [{"provider": "local", "model": "sketch"}]
        response = api.post("/api/v1/generations", json=body)
        assert response.status_code == 202, response.text
        ids.append(response.json()["job_id"])
    return ids


def drain(container: Container) -> int:
    """Run every job that is due now on the fake clock; how many were claimed."""
    claimed = 0
    while container.runner.run_next():
        claimed += 1
    return claimed


def jobs(api: Api, ids: list[str]) -> list[dict[str, Any]]:
    return [api.get(f"/api/v1/jobs/{job_id}").json() for job_id in ids]


def circuit(container: Container) -> Circuit:
    breaker = container.runner.breaker
    assert breaker is not None
    return breaker.state(f"provider:{GPU}", container.clock.now().timestamp()).circuit


def test_open_breaker_stops_calls_then_probes_and_closes_when_healed(
    container: Container, alice: Api, fake: Fake, clock: FakeClock
) -> None:
    fake.faults(error_rate=1.0)
    ids = submit(alice, 5)
    drain(container)
    # K failed calls opened the breaker; the other jobs did not call: they wait for it.
    assert fake.calls() == K
    assert circuit(container) is Circuit.OPEN
    shown = alice.get("/api/v1/providers", params={"health": "false"}).json()["data"]
    gpu = next(p for p in shown if p["name"] == GPU)
    assert gpu["circuit"]["state"] == "open"
    opened_until = datetime.fromisoformat(gpu["circuit"]["retry_at"])
    assert (opened_until - clock.now()).total_seconds() == pytest.approx(OPEN, abs=1)
    local = next(p for p in shown if p["name"] == "local")
    assert local["circuit"] == {"state": "closed", "retry_at": None}
    clock.advance(OPEN - 1)  # the K jobs' retries are due, the breaker is still open
    drain(container)
    assert fake.calls() == K
    waiting = jobs(alice, ids)
    assert all(j["status"] == "PENDING" for j in waiting)
    assert all(j["error_kind"] == "circuit_open" for j in waiting)
    assert "circuit breaker is open" in waiting[0]["error"]
    assert sum(j["attempts"] for j in waiting) == K  # being held back burns no attempt

    clock.advance(2)  # half-open: one probe, still failing, reopens for twice as long
    drain(container)
    assert fake.calls() == K + 1
    assert circuit(container) is Circuit.OPEN
    clock.advance(OPEN + 1)
    drain(container)
    assert fake.calls() == K + 1  # the second open interval is 2 x OPEN

    fake.faults(error_rate=0.0)
    clock.advance(OPEN)
    drain(container)
    assert circuit(container) is Circuit.CLOSED
    shown = alice.get("/api/v1/providers", params={"health": "false"}).json()["data"]
    assert next(p for p in shown if p["name"] == GPU)["circuit"]["state"] == "closed"
    settled = jobs(alice, ids)
    for job in settled:
        log = job["attempt_log"]
        assert job["attempts"] == len(log) <= 2, job
        if job["status"] == "FAILURE":  # two failed calls: the policy's limit
            assert [a["outcome"] for a in log] == ["unavailable", "unavailable"], job
            assert job["error_kind"] == "unavailable"
        else:
            assert job["status"] == "SUCCESS", job
            assert log[-1]["outcome"] == "success"
    assert sum(j["status"] == "SUCCESS" for j in settled) >= 3
    assert fake.calls() == sum(j["attempts"] for j in settled)


def test_open_breaker_sends_jobs_to_their_fallback_without_calling(
    container: Container, alice: Api, fake: Fake, clock: FakeClock
) -> None:
    fake.faults(error_rate=1.0)
    ids = submit(alice, 6, fallback=True)
    drain(container)
    clock.advance(2)  # the K jobs' retries are due
    drain(container)
    assert fake.calls() == K
    assert circuit(container) is Circuit.OPEN
    for job in jobs(alice, ids):
        assert job["status"] == "SUCCESS", job
        assert job["target_index"] == 1
        gpu_calls = [a for a in job["attempt_log"] if a["provider"] == GPU]
        assert all(a["outcome"] == "unavailable" for a in gpu_calls)
        for gen_id in job["generation_ids"]:
            gen = alice.get(f"/api/v1/generations/{gen_id}").json()
            assert (gen["provider"], gen["fallback_from"]) == ("local", f"{GPU}:{MODEL}")
    # Jobs submitted while it is open never reach the provider.
    later = submit(alice, 2, fallback=True)
    drain(container)
    assert fake.calls() == K
    assert all(j["status"] == "SUCCESS" and j["attempts"] == 1 for j in jobs(alice, later))


def test_rejections_and_bad_requests_do_not_open_it(
    container: Container, alice: Api, fake: Fake
) -> None:
    # The web UI's 404 for an unknown sampler is an invalid request: the provider is healthy.
    for i in range(K + 2):
        body = {"provider": GPU, "model": MODEL, "text": f"a moth {i}"}
        body["params"] = {"width": 64, "height": 64, "sampler": "No Such Sampler"}
        assert alice.post("/api/v1/generations", json=body).status_code == 202
    drain(container)
    assert fake.calls() == K + 2
    assert circuit(container) is Circuit.CLOSED


def test_a_job_that_would_wait_too_long_fails_without_a_call(
    container: Container, alice: Api, fake: Fake, clock: FakeClock
) -> None:
    container.runner.breaker_max_wait = 1.5 * OPEN
    fake.faults(error_rate=1.0)
    ids = submit(alice, K)
    drain(container)
    assert fake.calls() == K
    clock.advance(OPEN + 1)
    drain(container)  # one probe fails and reopens it for 2 x OPEN: longer than they may wait
    assert fake.calls() == K + 1
    settled = jobs(alice, ids)
    assert all(j["status"] == "FAILURE" and j["error_kind"] == "unavailable" for j in settled)
    held = [j for j in settled if j["attempts"] == 1]
    assert len(held) == K - 1, settled
    for job in held:
        assert "circuit breaker is open" in job["error"], job
        assert len(job["attempt_log"]) == 1


# -- the breaker port itself, shared between workers ----------------------------------------


def breakers(kind: str, count: int) -> list[CircuitBreaker]:
    policy = BreakerPolicy(threshold=K, open_seconds=OPEN)
    if kind == "memory":
        return [MemoryBreaker(policy)] * count  # one process: every worker shares the object
    url = redis_db9()
    prefix = f"promptcanvas:breaker:{uuid.uuid4().hex}:"
    return [RedisBreaker(url, policy, prefix=prefix) for _ in range(count)]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_workers_share_one_breaker_and_only_one_probes(kind: str) -> None:
    first, *others = breakers(kind, 8)
    now = 1_000_000.0
    for _ in range(K):
        assert first.admit("provider:x", now, 10).allowed
        first.record("provider:x", now, Outcome.FAILURE, probe=False)
    for worker in others:  # the other workers see it open
        answer = worker.admit("provider:x", now + 1, 10)
        assert not answer.allowed and answer.wait == pytest.approx(OPEN - 1)
    assert first.admit("provider:y", now, 10).allowed  # per provider

    later = now + OPEN + 1
    answers = []
    barrier = threading.Barrier(len(others))

    def ask(worker: CircuitBreaker) -> None:
        barrier.wait()
        answers.append(worker.admit("provider:x", later, 10))

    threads = [threading.Thread(target=ask, args=(w,)) for w in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    probes = [a for a in answers if a.allowed]
    assert len(probes) == 1 and probes[0].probe  # exactly one probe among racing workers
    assert all(0 < a.wait <= 10 for a in answers if not a.allowed)

    first.record("provider:x", later, Outcome.SUCCESS, probe=True)
    assert all(w.admit("provider:x", later, 10).allowed for w in others)
    assert first.state("provider:x", later).circuit is Circuit.CLOSED
