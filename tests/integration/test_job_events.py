"""The live stream of all of a user's jobs: GET /api/v1/jobs/events (server-sent events)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from promptcanvas.bootstrap import Container
from promptcanvas.domain.jobs import Job, JobStatus
from promptcanvas.entrypoints.api.routes import job_events
from promptcanvas.services.generate import GenerationRequest
from promptcanvas.settings import Settings
from tests.conftest import Api
from tests.jobs import add_fake, drain, no_wait_retries


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return no_wait_retries(settings)


@pytest.fixture(autouse=True)
def short_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    # The TestClient returns a streamed body once it ends: keep streams short and quick.
    monkeypatch.setattr(job_events, "STREAM_SECONDS", 5.0)
    monkeypatch.setattr(job_events, "TICK_SECONDS", 0.1)


def submit(c: Container, api: Api, text: str) -> str:
    request = GenerationRequest(provider="fake", model="toy", text=text)
    return c.generations.submit(api.user_id, request).job.id


def events(body: str) -> list[tuple[str, Any]]:
    """(event name, parsed data) of each event in a text/event-stream body."""
    out = []
    for block in body.split("\n\n"):
        lines = block.splitlines()
        name = next((ln[7:] for ln in lines if ln.startswith("event: ")), None)
        data = next((ln[6:] for ln in lines if ln.startswith("data: ")), None)
        if name and data:
            out.append((name, json.loads(data)))
    return out


def later(seconds: float, work: Any) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        work()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_snapshot_then_each_change_of_my_jobs_only(
    container: Container, alice: Api, bob: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_fake(container)
    # The changes must come after the snapshot was read, however slow the machine is.
    snapshot_taken = threading.Event()
    real_snapshot = job_events.snapshot_jobs

    def snapshot_then_signal(c: Container, owner_id: str) -> Any:
        try:
            return real_snapshot(c, owner_id)
        finally:
            snapshot_taken.set()

    monkeypatch.setattr(job_events, "snapshot_jobs", snapshot_then_signal)
    waiting = submit(container, alice, "a quiet harbour")
    running = submit(container, alice, "a loud market")
    bobs = submit(container, bob, "bob's secret")
    made: dict[str, str] = {}

    def changes() -> None:
        assert snapshot_taken.wait(30)
        container.generations.cancel(alice.user_id, waiting)
        now = datetime.now(UTC)
        with container.runner.uow() as uow:
            claimed = uow.jobs.claim(
                worker="t",
                token="tok",
                now=now,
                lease_until=now + timedelta(minutes=1),
                job_id=running,
            )
            assert claimed is not None
            uow.commit()
        time.sleep(0.3)
        with container.runner.uow() as uow:
            later_now = datetime.now(UTC)
            uow.jobs.heartbeat(running, "tok", later_now + timedelta(minutes=1), 0.5, later_now)
            uow.commit()
        made["new"] = submit(container, alice, "a new lighthouse")
        container.generations.cancel(bob.user_id, bobs)
        drain(container)

    worker = later(0.4, changes)
    response = alice.get("/api/v1/jobs/events")
    worker.join()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("retry: 3000")
    got = events(response.text)
    name, snapshot = got[0]
    assert name == "snapshot"
    assert [j["id"] for j in snapshot["jobs"]] == [running, waiting]  # newest first
    assert {j["status"] for j in snapshot["jobs"]} == {"PENDING"}
    assert snapshot["jobs"][0]["label"] == "a loud market"
    assert snapshot["jobs"][0]["provider"] == "fake" and snapshot["jobs"][0]["model"] == "toy"
    assert "targets" not in response.text and "payload" not in response.text

    changed = [data for name, data in got[1:] if name == "job"]
    assert bobs not in response.text and "bob's secret" not in response.text
    by_job: dict[str, list[dict[str, Any]]] = {}
    for data in changed:
        by_job.setdefault(data["id"], []).append(data)
    assert by_job[waiting][-1]["status"] == "CANCELLED"
    progress = [d for d in by_job[running] if d["progress"] == 0.5]
    assert progress and progress[0]["status"] == "RUNNING"
    assert progress[0]["eta_seconds"] is not None and progress[0]["eta_seconds"] >= 0
    assert by_job[made["new"]][-1]["status"] == "SUCCESS"
    assert by_job[made["new"]][-1]["label"] == "a new lighthouse"
    # A job is sent again only when it changed.
    seen = [(d["id"], d["status"], d["progress"], d["attempts"]) for d in changed]
    assert len(seen) == len(set(seen))


def test_a_quiet_stream_sends_keep_alive_comments(
    container: Container, alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_events, "KEEPALIVE_SECONDS", 0.3)
    monkeypatch.setattr(job_events, "STREAM_SECONDS", 1.0)
    body = alice.get("/api/v1/jobs/events").text
    assert events(body) == [("snapshot", {"now": events(body)[0][1]["now"], "jobs": []})]
    assert ": keep-alive" in body


def test_the_stream_needs_a_user_and_is_documented(container: Container, alice: Api) -> None:
    response = alice.client.get("/api/v1/jobs/events")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    spec = alice.client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/jobs/events"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert "snapshot" in operation["description"]


def test_eta_comes_from_progress_and_elapsed_time() -> None:
    now = datetime(2025, 1, 1, 12, 0, 30, tzinfo=UTC)
    job = Job(
        id="j",
        owner_id="o",
        kind="generate",
        payload={},
        created_at=now,
        run_after=now,
        status=JobStatus.RUNNING,
        progress=0.25,
        started_at=now - timedelta(seconds=30),
    )
    assert job_events.eta_seconds(job, now) == 90.0
    job.progress = 0.0
    assert job_events.eta_seconds(job, now) is None
    job.status = JobStatus.PENDING
    assert job_events.eta_seconds(job, now) is None
