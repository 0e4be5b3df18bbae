"""The engine's acceptance scenario: 42 generations through the real job runner against the
fake OpenAI server over HTTP, which answers 30% of calls with 429 (Retry-After), 10% with 500,
stalls 5% past the client's timeout, and refuses prompts holding a marker word.

Every job must end SUCCESS or FAILURE, never more attempts than the policy allows, rejected
prompts are not retried, fallbacks take over from rejected primaries, and no API key shows up
in any error, attempt or log line. Once with the runner driven synchronously, once with the
embedded worker threads.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from promptcanvas.bootstrap import Container, build_provider
from promptcanvas.domain.jobs import JobStatus
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ModelConfig, ProviderConfig, Settings
from tests.conftest import Api
from tests.fakes.openai_server import FakeServer, running_fake_openai

API_KEY = "sk-test-faults-7f3a9c1e5b2d"  # distinctive, so any leak is found by substring
STALE_KEY = "sk-test-stale-0d4e8b2a61c9"  # what a second, misconfigured provider sends
KEY_ENV = "PROMPTCANVAS_TEST_OPENAI_KEY"
STALE_ENV = "PROMPTCANVAS_TEST_STALE_KEY"
MARKER = "forbidden"
PRICE = 0.016
TIMEOUT = 0.5
JOBS = 40
# Seed 7 puts 16 429s, 6 500s and 3 stalls in the first 40 draws, so every fault shows up.
FAULTS: dict[str, Any] = {
    "seed": 7,
    "rate_429": 0.30,
    "retry_after": "1",
    "retry_after_ms": "50",  # OpenAI's own header wins over Retry-After; keeps the test fast
    "rate_500": 0.10,
    "rate_timeout": 0.05,
    "stall_seconds": 1.0,  # twice the client's timeout
    "reject_marker": MARKER,
}
RETRYABLE = {"rate_limited", "unavailable", "timeout"}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with running_fake_openai(api_key=API_KEY, **FAULTS) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server: FakeServer) -> None:
    server.reset()  # the same fault sequence for every test


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No backoff of our own: only the provider's Retry-After (50 ms) delays a retry.
    return settings.model_copy(update={"retry_base_seconds": 0.0, "retry_max_seconds": 0.0})


@pytest.fixture
def openai(container: Container, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`openai` with the right key and `openai-stale` with a wrong one, both on the fake."""
    monkeypatch.setenv(KEY_ENV, API_KEY)
    monkeypatch.setenv(STALE_ENV, STALE_KEY)
    for name, env in (("openai", KEY_ENV), ("openai-stale", STALE_ENV)):
        config = ProviderConfig(
            name=name,
            adapter="openai",
            base_url=server.api_url,
            api_key_env=env,
            models={"dall-e-2": ModelConfig(price_per_image=PRICE)},
            concurrency=4,
            timeout_seconds=TIMEOUT,
        )
        container.registry.entries[name] = ProviderEntry(config, build_provider(config))


def prompt_text(i: int) -> str:
    if i < 0:
        return f"a kite {i}"
    text = f"a lighthouse on a cliff at dusk, study {i}"
    return f"{text}, {MARKER} symbol" if rejected(i) else text


def rejected(i: int) -> bool:
    return i % 5 == 0


def falls_back(i: int) -> bool:
    return i % 3 == 0


def submit_all(api: Api) -> dict[int, dict[str, Any]]:
    """JOBS jobs on `openai` (some with the marker, some with a local fallback, some n=2),
    plus two on `openai-stale` at indexes -1 and -2."""
    queued = {}
    for i in range(JOBS):
        body: dict[str, Any] = {
            "provider": "openai",
            "model": "dall-e-2",
            "text": prompt_text(i),
            "params": {"size": "256x256"},
            "n": 2 if i % 4 == 1 else 1,
        }
        if falls_back(i):
            body["fallback"] = [{"provider": "local", "model": "sketch"}]
        queued[i] = api.post("/api/v1/generations", json=body)
    for i in (-1, -2):
        body = {"provider": "openai-stale", "model": "dall-e-2", "text": prompt_text(i)}
        body["params"] = {"size": "256x256"}
        queued[i] = api.post("/api/v1/generations", json=body)
    for response in queued.values():
        assert response.status_code == 202, response.text
    return {i: r.json() for i, r in queued.items()}


def unfinished(container: Container) -> int:
    with container.runner.uow(write=False) as uow:
        counts = uow.jobs.counts()
    return counts[JobStatus.PENDING] + counts[JobStatus.RUNNING]


def run_by_draining(container: Container, seconds: float = 60.0) -> None:
    """Run jobs on this thread until none is left; retries wait out their Retry-After."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        while container.runner.run_next():
            pass
        if not unfinished(container):
            return
        time.sleep(0.02)


def run_with_workers(container: Container, seconds: float = 60.0) -> None:
    """Let four embedded worker threads run the jobs, then stop them."""
    pool = container.worker_pool(threads=4)
    pool.start()
    try:
        deadline = time.monotonic() + seconds
        while unfinished(container) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pool.stop()


def check_outcomes(
    api: Api, server: FakeServer, queued: dict[int, dict[str, Any]], limit: int, logs: str
) -> Counter[str]:
    """Every invariant of the scenario; returns how often each attempt outcome occurred."""
    calls = Counter(r["prompt"] for r in server.requests() if r["path"] == "/v1/images/generations")
    outcomes: Counter[str] = Counter()
    logged_calls = 0
    for i, q in queued.items():
        job = api.get(f"/api/v1/jobs/{q['job_id']}").json()
        gens = [api.get(f"/api/v1/generations/{g}").json() for g in q["generation_ids"]]
        log = job["attempt_log"]
        where = f"job {i}: {json.dumps(job)[:3000]}"
        outcomes.update(a["outcome"] for a in log)

        assert job["status"] in ("SUCCESS", "FAILURE"), where
        # Every provider call is logged, and no target got more attempts than the policy allows.
        assert job["attempts"] == len(log), where
        per_target = Counter((a["provider"], a["model"]) for a in log)
        assert max(per_target.values()) <= limit, where
        primary = [a for a in log if a["provider"] == job["targets"][0]["provider"]]
        # No hidden retries (the SDK's are off): the fake saw exactly the attempts we logged.
        assert calls[prompt_text(i)] == len(primary), where
        logged_calls += len(primary)
        assert all(a["outcome"] in RETRYABLE for a in primary[:-1]), where

        if job["status"] == "FAILURE":
            assert job["error"] and job["error"] == log[-1]["message"], where
            assert job["error_kind"] == log[-1]["outcome"], where
            assert all(g["status"] == "FAILURE" and g["error"] == job["error"] for g in gens)
        else:
            assert all(g["status"] == "SUCCESS" and len(g["assets"]) == 1 for g in gens), where

        fell_back = job["status"] == "SUCCESS" and job["target_index"] == 1
        if fell_back:
            for g in gens:
                assert (g["provider"], g["model"], g["cost"]) == ("local", "sketch", 0.0), where
                assert g["fallback_from"] == "openai:dall-e-2", where

        if i < 0:  # the wrong key: refused at once, never retried, the key not repeated
            assert job["status"] == "FAILURE" and len(log) == 1, where
            assert "authentication failed (HTTP 401)" in job["error"], where
            assert "[redacted]" in job["error"], where
        elif rejected(i):
            # Refused by the content policy once; the provider was not called again after it.
            assert [a["outcome"] for a in primary].count("content_rejected") == 1, where
            assert primary[-1]["outcome"] == "content_rejected", where
            assert "safety system" in primary[-1]["message"], where
            if falls_back(i):
                assert fell_back, where
            else:
                assert job["status"] == "FAILURE", where
                assert job["error_kind"] == "content_rejected", where
                assert job["error"].startswith("Your request was rejected"), where
        elif primary[-1]["outcome"] == "success":
            assert job["status"] == "SUCCESS" and job["target_index"] == 0, where
            for g in gens:
                assert (g["provider"], g["fallback_from"], g["cost"]) == ("openai", None, PRICE)
        else:
            # Passing faults on every attempt: the policy gave up on this target.
            assert len(primary) == limit, where
            if falls_back(i):
                assert fell_back, where
            else:
                assert job["status"] == "FAILURE" and job["error_kind"] in RETRYABLE, where

        text = json.dumps([job, gens])
        assert API_KEY not in text and STALE_KEY not in text, where

    assert sum(calls.values()) == logged_calls  # and none the log does not know of
    assert API_KEY not in logs and STALE_KEY not in logs
    return outcomes


@pytest.mark.usefixtures("openai")
def test_faulty_provider_jobs_all_settle_by_policy(
    container: Container, alice: Api, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    queued = submit_all(alice)
    started = time.monotonic()
    run_by_draining(container)
    limit = container.settings.job_max_attempts
    outcomes = check_outcomes(alice, server, queued, limit, caplog.text)
    # The scenario really exercised every path, and the delays were the provider's 50 ms.
    for kind in ("success", "rate_limited", "unavailable", "timeout", "content_rejected"):
        assert outcomes[kind] > 0, outcomes
    assert time.monotonic() - started < 30


@pytest.mark.usefixtures("openai")
def test_faulty_provider_jobs_settle_with_worker_threads(
    container: Container, alice: Api, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    queued = submit_all(alice)
    run_with_workers(container)
    limit = container.settings.job_max_attempts
    outcomes = check_outcomes(alice, server, queued, limit, caplog.text)
    assert outcomes["success"] > 0 and outcomes["rate_limited"] > 0, outcomes
