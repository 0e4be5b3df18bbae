"""Generations through the API and the job runner, with a scripted provider (no threads)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from promptcanvas.bootstrap import Container
from promptcanvas.domain.jobs import JobStatus
from promptcanvas.ports.providers import ContentRejected, RateLimited, Unavailable
from promptcanvas.settings import Settings
from tests.conftest import Api
from tests.jobs import add_fake, drain, no_wait_retries


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Retries without waiting, so the tests drive the runner synchronously.
    return no_wait_retries(settings)


def submit(api: Api, **body: Any) -> dict[str, Any]:
    body.setdefault("provider", "fake")
    body.setdefault("model", "toy")
    response = api.post("/api/v1/generations", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_generation_runs_and_stores_a_png_other_tools_can_read(
    container: Container, alice: Api
) -> None:
    fake = add_fake(container)
    prompt = alice.create_prompt("a lighthouse at dusk", negative_text="blurry")
    queued = submit(alice, prompt_id=prompt["id"], seed=7, params={"width": 64, "height": 48})
    assert alice.get(f"/api/v1/jobs/{queued['job_id']}").json()["status"] == "PENDING"

    assert drain(container) == 1
    job = alice.get(f"/api/v1/jobs/{queued['job_id']}").json()
    assert job["status"] == "SUCCESS"
    assert job["attempt_log"][0]["outcome"] == "success"
    gen = alice.get(f"/api/v1/generations/{queued['generation_ids'][0]}").json()
    assert (gen["provider"], gen["model"], gen["model_version"], gen["seed"]) == (
        "fake",
        "toy",
        "2",
        7,
    )
    assert gen["status"] == "SUCCESS"
    assert gen["latency_ms"] is not None
    assert fake.calls[0].negative_prompt == "blurry"
    (asset,) = gen["assets"]
    data = alice.get(asset["url"]).content
    image = Image.open(io.BytesIO(data))
    params = image.info["parameters"]
    assert params.splitlines()[0] == "a lighthouse at dusk"
    assert params.splitlines()[1] == "Negative prompt: blurry"
    assert "Seed: 7" in params and "Model: toy" in params and "Model version: 2" in params
    record = json.loads(image.info["promptcanvas"])
    assert record["generation_id"] == gen["id"]
    # The prompt now has an output, so its wording is frozen.
    detail = alice.get(f"/api/v1/prompts/{prompt['id']}").json()
    assert detail["outputs"][0]["id"] == gen["id"]


def test_text_submission_creates_the_prompt(container: Container, alice: Api) -> None:
    add_fake(container)
    queued = submit(alice, text="밤하늘 아래 고양이", n=2, seed=100)
    drain(container)
    gens = [alice.get(f"/api/v1/generations/{g}").json() for g in queued["generation_ids"]]
    assert [g["seed"] for g in gens] == [100, 101]
    assert len({g["assets"][0]["sha256"] for g in gens}) == 2
    prompt = alice.get(f"/api/v1/prompts/{gens[0]['prompt_id']}").json()
    assert prompt["text"] == "밤하늘 아래 고양이"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "nope"}, "provider"),
        ({"model": "nope"}, "model"),
        ({"model_version": "9"}, "model_version"),
        ({"params": {"width": 100, "height": 64}}, "params"),
        ({"params": {"quality": "hd"}}, "params"),
        ({"params": {"steps": "many"}}, "steps"),
        ({"n": 0}, "n"),
        ({"n": 5}, "params"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**40}, "seed"),
        ({"fallback": [{"provider": "local", "model": "nope"}]}, "model"),
    ],
)
def test_invalid_requests_are_refused_and_queue_nothing(
    container: Container, alice: Api, body: dict[str, Any], field: str
) -> None:
    add_fake(container)
    response = alice.post(
        "/api/v1/generations", json={"provider": "fake", "model": "toy", "text": "x", **body}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
    assert alice.get("/api/v1/jobs").json()["data"] == []
    assert alice.search() == []  # no prompt was created either


def test_prompt_id_and_text_are_exclusive(container: Container, alice: Api) -> None:
    add_fake(container)
    prompt = alice.create_prompt()
    both = alice.post(
        "/api/v1/generations",
        json={"provider": "fake", "model": "toy", "prompt_id": prompt["id"], "text": "x"},
    )
    assert both.status_code == 422
    missing = alice.post("/api/v1/generations", json={"provider": "fake", "model": "toy"})
    assert missing.status_code == 422
    unknown = alice.post(
        "/api/v1/generations",
        json={"provider": "fake", "model": "toy", "prompt_id": "0" * 26},
    )
    assert unknown.status_code == 404


def test_idempotency_key_returns_the_same_job(container: Container, alice: Api) -> None:
    add_fake(container)
    first = submit(alice, text="a bird", idempotency_key="k-1", seed=1)
    again = alice.post(
        "/api/v1/generations",
        json={
            "provider": "fake",
            "model": "toy",
            "text": "a bird",
            "seed": 1,
            "idempotency_key": "k-1",
        },
    )
    assert again.status_code == 200
    assert again.json()["job_id"] == first["job_id"]
    assert again.json()["generation_ids"] == first["generation_ids"]
    other = alice.post(
        "/api/v1/generations",
        json={"provider": "fake", "model": "toy", "text": "a cat", "idempotency_key": "k-1"},
    )
    assert other.status_code == 409
    assert len(alice.get("/api/v1/jobs").json()["data"]) == 1


def test_retryable_errors_are_retried_until_success(container: Container, alice: Api) -> None:
    fake = add_fake(
        container, script=[RateLimited("slow down", retry_after=0.0), Unavailable("502"), None]
    )
    queued = submit(alice, text="a tree")
    drain(container)
    job = alice.get(f"/api/v1/jobs/{queued['job_id']}").json()
    assert job["status"] == "SUCCESS"
    assert job["attempts"] == 3
    assert [a["outcome"] for a in job["attempt_log"]] == [
        "rate_limited",
        "unavailable",
        "success",
    ]
    assert len(fake.calls) == 3


def test_attempts_never_exceed_the_policy(container: Container, alice: Api) -> None:
    limit = container.settings.job_max_attempts
    fake = add_fake(container, script=[Unavailable("down")] * 20)
    queued = submit(alice, text="a tree")
    drain(container)
    job = alice.get(f"/api/v1/jobs/{queued['job_id']}").json()
    assert job["status"] == "FAILURE"
    assert job["attempts"] == limit == len(fake.calls)
    assert job["error"] == "down"
    gen = alice.get(f"/api/v1/generations/{queued['generation_ids'][0]}").json()
    assert gen["status"] == "FAILURE" and gen["error"] == "down"


def test_content_rejection_is_not_retried(container: Container, alice: Api) -> None:
    fake = add_fake(container, script=[ContentRejected("Your request was rejected by safety")])
    queued = submit(alice, text="something")
    drain(container)
    job = alice.get(f"/api/v1/jobs/{queued['job_id']}").json()
    assert job["status"] == "FAILURE"
    assert job["error_kind"] == "content_rejected"
    assert job["error"] == "Your request was rejected by safety"
    assert len(fake.calls) == 1


def test_fallback_runs_the_next_target_and_records_it(container: Container, alice: Api) -> None:
    add_fake(container, script=[ContentRejected("no")])
    backup = add_fake(container, "backup")
    queued = submit(
        alice,
        text="a castle",
        params={"style": "bold"},
        fallback=[{"provider": "backup", "model": "toy", "model_version": "1"}],
    )
    drain(container)
    gen = alice.get(f"/api/v1/generations/{queued['generation_ids'][0]}").json()
    assert gen["status"] == "SUCCESS"
    assert (gen["provider"], gen["model_version"]) == ("backup", "1")
    assert gen["fallback_from"] == "fake:toy@2"
    assert len(backup.calls) == 1


def test_cancel_and_retry(container: Container, alice: Api) -> None:
    fake = add_fake(container)
    queued = submit(alice, text="a boat")
    job_url = f"/api/v1/jobs/{queued['job_id']}"
    cancelled = alice.post(f"{job_url}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert drain(container) == 0 and fake.calls == []
    assert alice.post(f"{job_url}/cancel").status_code == 409
    gen_url = f"/api/v1/generations/{queued['generation_ids'][0]}"
    assert alice.get(gen_url).json()["status"] == "CANCELLED"
    retried = alice.post(f"{job_url}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "PENDING"
    drain(container)
    assert alice.get(job_url).json()["status"] == "SUCCESS"
    assert alice.get(gen_url).json()["status"] == "SUCCESS"
    assert alice.post(f"{job_url}/retry").status_code == 409


def test_a_job_run_twice_stores_one_output(container: Container, alice: Api) -> None:
    add_fake(container)
    queued = submit(alice, text="a kite")
    now = container.clock.now()
    # A worker claims the job and dies: its lease lapses, another worker takes over.
    with container.runner.uow() as uow:
        stale = uow.jobs.claim(
            worker="elsewhere:1:x:w", token="t" * 32, now=now, lease_until=now - timedelta(1)
        )
        uow.commit()
    assert stale is not None
    assert drain(container) == 1
    with container.runner.uow() as uow:
        # The first worker wakes up and tries to finish: its claim is gone.
        late = stale
        late.status = JobStatus.SUCCESS
        late.updated_at = now
        assert not uow.jobs.finish(late, "t" * 32)
    gen = alice.get(f"/api/v1/generations/{queued['generation_ids'][0]}").json()
    assert len(gen["assets"]) == 1


def test_jobs_of_dead_local_workers_are_recovered(container: Container, alice: Api) -> None:
    import socket

    add_fake(container)
    queued = submit(alice, text="a lamp")
    now = container.clock.now()
    with container.runner.uow() as uow:
        dead = f"{socket.gethostname()}:999999999:abcd:w0"
        uow.jobs.claim(worker=dead, token="d" * 32, now=now, lease_until=now + timedelta(1))
        uow.commit()
    assert drain(container) == 0  # the lease is still valid
    assert container.runner.recover() == 1
    assert drain(container) == 1
    assert alice.get(f"/api/v1/jobs/{queued['job_id']}").json()["status"] == "SUCCESS"


def test_exact_cache_reuses_deterministic_results(container: Container, alice: Api) -> None:
    fake = add_fake(container, deterministic=True)
    first = submit(alice, text="a red bicycle", seed=5)
    drain(container)
    second = submit(alice, text="a red  bicycle ", seed=5)
    drain(container)
    assert len(fake.calls) == 1
    a = alice.get(f"/api/v1/generations/{first['generation_ids'][0]}").json()
    b = alice.get(f"/api/v1/generations/{second['generation_ids'][0]}").json()
    assert b["cached_from"] == a["id"]
    assert b["assets"][0]["id"] == a["assets"][0]["id"]
    third = submit(alice, text="a red bicycle", seed=6)
    drain(container)
    assert len(fake.calls) == 2
    assert (
        alice.get(f"/api/v1/generations/{third['generation_ids'][0]}").json()["cached_from"] is None
    )


def test_other_users_see_nothing(container: Container, alice: Api, bob: Api) -> None:
    add_fake(container)
    queued = submit(alice, text="secret")
    drain(container)
    for url in (
        f"/api/v1/jobs/{queued['job_id']}",
        f"/api/v1/generations/{queued['generation_ids'][0]}",
        f"/api/v1/jobs/{queued['job_id']}/events",
    ):
        assert bob.get(url).status_code == 404
    assert bob.post(f"/api/v1/jobs/{queued['job_id']}/cancel").status_code == 404
    assert bob.get("/api/v1/jobs").json()["data"] == []


def test_job_listing_filters_and_pages(container: Container, alice: Api) -> None:
    add_fake(container, script=[ContentRejected("no")])
    ids = [submit(alice, text=f"p{i}")["job_id"] for i in range(5)]
    drain(container)
    failed = alice.get("/api/v1/jobs", params={"status": "FAILURE"}).json()["data"]
    assert [j["id"] for j in failed] == [ids[0]]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = alice.get("/api/v1/jobs", params=params).json()
        seen += [j["id"] for j in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert alice.get("/api/v1/jobs", params={"status": "DONE"}).status_code == 422
    assert alice.get("/api/v1/jobs", params={"cursor": "garbage"}).status_code == 400


def test_events_stream_ends_with_the_final_state(container: Container, alice: Api) -> None:
    add_fake(container)
    queued = submit(alice, text="a star")
    drain(container)
    response = alice.get(f"/api/v1/jobs/{queued['job_id']}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: progress" in response.text
    assert response.text.rstrip().endswith('data: {"status": "SUCCESS"}')


def test_metrics_count_jobs_errors_and_cost(container: Container, alice: Api) -> None:
    add_fake(container, script=[Unavailable("x")])
    submit(alice, text="one")
    drain(container)
    text = alice.client.get("/metrics").text
    assert 'promptcanvas_jobs{kind="generate",state="SUCCESS"} 1' in text
    assert "promptcanvas_queue_depth 0" in text
    assert 'promptcanvas_provider_errors_total{provider="fake",kind="unavailable"} 1' in text
    assert 'promptcanvas_generations_total{provider="fake",model="toy"} 1' in text
    assert 'promptcanvas_provider_call_seconds_count{provider="fake",outcome="success"} 1' in text


def test_image_to_image_uses_an_uploaded_image(container: Container, alice: Api) -> None:
    from tests.factories import png

    add_fake(container)  # its model takes no input image
    uploaded = alice.upload(png(64, 64)).json()
    queued = submit(
        alice,
        provider="local",
        model="sketch",
        text="a red house, watercolor",
        params={"init_asset_id": uploaded["id"], "strength": 0.5, "width": 64, "height": 64},
    )
    drain(container)
    gen = alice.get(f"/api/v1/generations/{queued['generation_ids'][0]}").json()
    assert gen["status"] == "SUCCESS", gen
    assert gen["parameters"]["init_asset_id"] == uploaded["id"]
    # Someone else's (or no) asset is refused before anything is queued.
    missing = alice.post(
        "/api/v1/generations",
        json={"text": "x", "params": {"init_asset_id": "0" * 26, "strength": 0.5}},
    )
    assert missing.status_code == 404
    refused = alice.post(
        "/api/v1/generations",
        json={
            "provider": "fake",
            "model": "toy",
            "text": "x",
            "params": {"init_asset_id": uploaded["id"]},
        },
    )
    assert refused.status_code == 422
    assert "input image" in refused.json()["error"]["message"]
