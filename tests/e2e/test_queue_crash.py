"""The job queue's durability, as separate processes: kill -9 mid-queue, shared rate limits.

Embedded: a server with worker threads is killed while hundreds of jobs are queued or
running; after a restart every job finishes exactly once. Celery: an API server and two
worker processes on PostgreSQL and Redis; one worker is killed mid-batch, and a provider's
per-minute limit holds across both workers.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import kombu
import psycopg
import pytest
import sqlalchemy as sa

from promptcanvas.adapters.queue.celery import QUEUE
from tests.e2e.procs import CeleryWorker, FakeProvider, ServerProcess, Spawned, run_cli
from tests.fakes.sdwebui_server import CHECKPOINTS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals"),
]

POSTGRES_URL = os.environ.get("PROMPTCANVAS_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("PROMPTCANVAS_TEST_REDIS_URL")
celery_only = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="the Celery variants need PROMPTCANVAS_TEST_POSTGRES_URL and "
    "PROMPTCANVAS_TEST_REDIS_URL (a PostgreSQL server and a Redis db index to flush)",
)
SMALL = {"width": 64, "height": 64}
DEFAULT_LEASE_SECONDS = 60.0  # what recovery must not wait for in the embedded test


# -- helpers ---------------------------------------------------------------------------------


def api(url: str, key: str) -> httpx.Client:
    """A client for the API with the admin's key."""
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60.0,
        limits=httpx.Limits(max_connections=16),
    )


def submit(url: str, key: str, bodies: list[dict[str, Any]], threads: int = 8) -> list[str]:
    """POST every body to /api/v1/generations from a few threads; the job ids, in order."""
    with api(url, key) as client:

        def one(body: dict[str, Any]) -> str:
            response = client.post("/api/v1/generations", json=body)
            assert response.status_code == 202, response.text
            job_id: str = response.json()["job_id"]
            return job_id

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, bodies))


def job_counts(url: str) -> dict[str, int]:
    """Generation jobs by state from /metrics (one cheap query, any number of jobs)."""
    text = httpx.get(f"{url}/metrics", timeout=30.0).text
    counts = {}
    for line in text.splitlines():
        if line.startswith('promptcanvas_jobs{kind="generate",state="'):
            state = line.split('"')[3]
            counts[state] = int(line.rsplit(" ", 1)[1])
    return counts


def wait_for(what: str, ready: Callable[[], bool], timeout: float, *logs: Spawned) -> float:
    """Poll until `ready`; the seconds it took. Fails with the processes' logs on timeout."""
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > timeout:
            tails = "\n\n".join(f"--- {p.log_path.name}\n{p.log()}" for p in logs)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")
        time.sleep(0.05)
    return time.monotonic() - started


def jobs_in(url: str, key: str, status: str) -> list[dict[str, Any]]:
    """Every job of the admin in a state, through GET /api/v1/jobs page by page."""
    found: list[dict[str, Any]] = []
    cursor = None
    with api(url, key) as client:
        for _page in range(1000):
            params: dict[str, Any] = {"status": status, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/jobs", params=params)
            assert page.status_code == 200, page.text
            found += page.json()["data"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return found
    raise AssertionError("the job listing did not end")


def assert_all_done_once(url: str, key: str, job_ids: list[str]) -> None:
    """Every job SUCCESS, none left behind, and each made one generation with one file."""
    for status in ("RUNNING", "PENDING", "FAILURE", "CANCELLED"):
        assert jobs_in(url, key, status) == [], f"jobs left {status}"
    done = {j["id"]: j for j in jobs_in(url, key, "SUCCESS")}
    assert set(done) == set(job_ids)
    assert all(len(j["generation_ids"]) == 1 for j in done.values())

    with api(url, key) as client:

        def files(job: dict[str, Any]) -> tuple[str, list[str]]:
            [generation_id] = job["generation_ids"]
            response = client.get(f"/api/v1/generations/{generation_id}")
            assert response.status_code == 200, response.text
            body = response.json()
            return body["status"], [a["id"] for a in body["assets"]]

        with ThreadPoolExecutor(8) as pool:
            outputs = list(pool.map(files, done.values()))
    assert {status for status, _ in outputs} == {"SUCCESS"}
    assert [len(assets) for _, assets in outputs] == [1] * len(job_ids)
    assert len({a for _, assets in outputs for a in assets}) == len(job_ids), "files shared"


def assert_doctor_clean(server: ServerProcess) -> None:
    """`promptcanvas doctor` finds no row whose file is missing."""
    doctor = run_cli(server.data_dir, "doctor", "--json", env=server.extra_env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert json.loads(doctor.stdout)["rows_with_missing_files"] == []


def bodies(count: int, label: str, **fields: Any) -> list[dict[str, Any]]:
    """Distinct small generation requests (distinct texts, so no result cache hits)."""
    return [
        {"text": f"{label} {i}: 눈 내리는 산타마을 a red fox", "params": SMALL, **fields}
        for i in range(count)
    ]


# -- embedded --------------------------------------------------------------------------------


def test_kill_9_mid_queue_then_restart_finishes_every_job_once(
    tmp_path: Path, procs: list[Spawned]
) -> None:
    server = ServerProcess(tmp_path / "data", {"PROMPTCANVAS_WORKERS": "4"})
    procs.append(server)
    server.start()
    key = server.create_key()

    t0 = time.monotonic()
    job_ids = submit(server.url, key, bodies(500, "embedded"))
    submitted = time.monotonic() - t0
    assert len(set(job_ids)) == 500

    def states() -> dict[str, int]:
        with sqlite3.connect(server.data_dir / "promptcanvas.db") as db:
            rows = db.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall()
        db.close()
        return dict(rows)

    def frozen_mid_work() -> bool:
        """After 50 successes, freeze the server at a moment when it is running jobs."""
        if job_counts(server.url)["SUCCESS"] < 50:
            return False
        server.pause()
        if states().get("RUNNING", 0) == 0:
            server.resume()
            return False
        return True

    wait_for("the server to run jobs after 50 succeeded", frozen_mid_work, 60, server)
    server.kill()
    # Read once the process is gone: a commit it made just before the freeze may only now
    # become visible (SQLite replays its WAL), so this is what the restart will find.
    at_kill = states()
    assert 50 <= at_kill.get("SUCCESS", 0) < 500, at_kill
    assert at_kill.get("RUNNING", 0) > 0, at_kill

    restarted = time.monotonic()
    server.start()
    recovery = wait_for(
        "all 500 jobs to succeed after the restart",
        lambda: job_counts(server.url).get("SUCCESS") == 500,
        DEFAULT_LEASE_SECONDS / 2,
        server,
    )
    # recover() put the dead process's jobs back at start, without waiting for their leases.
    requeued = f"re-queued {at_kill['RUNNING']} job(s) left running by a dead worker"
    assert requeued in server.log(tail=None)
    assert_all_done_once(server.url, key, job_ids)
    assert_doctor_clean(server)
    print(
        f"\nembedded: 500 jobs submitted in {submitted:.1f} s; killed at {at_kill}; "
        f"restart to all done in {time.monotonic() - restarted:.1f} s "
        f"({recovery:.1f} s after healthy)"
    )


# -- Celery ----------------------------------------------------------------------------------


def start_cluster(
    tmp_path: Path, env: dict[str, str], procs: list[Spawned]
) -> tuple[ServerProcess, list[CeleryWorker], str]:
    """The API server (no workers of its own), then two Celery workers with 4 threads each."""
    server = ServerProcess(tmp_path / "data", env)
    procs.append(server)
    server.start()  # migrates the database before any worker connects
    assert "job workers:" not in server.log(tail=None)
    workers = [CeleryWorker(server, f"w{i}", concurrency=4) for i in (1, 2)]
    procs.extend(workers)
    for worker in workers:
        worker.start()
    return server, workers, server.create_key()


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows straight from the PostgreSQL database, to see what the API does not show."""
    url = sa.engine.make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        return conn.execute(sql).fetchall()


def by_pid(workers: list[tuple[Any, ...]]) -> Counter[int]:
    """How many rows name each process of this host (worker names are host:pid:boot:thread)."""
    host = socket.gethostname()
    return Counter(int(w.split(":")[1]) for (w,) in workers if w and w.startswith(f"{host}:"))


@celery_only
def test_celery_worker_killed_mid_batch_loses_and_repeats_nothing(
    tmp_path: Path, celery_env: dict[str, str], procs: list[Spawned]
) -> None:
    server, (victim, survivor), key = start_cluster(tmp_path, celery_env, procs)

    database = celery_env["PROMPTCANVAS_DATABASE_URL"]
    pid = victim.pid

    def running_on_victim() -> int:
        return by_pid(query(database, "SELECT worker FROM jobs WHERE status = 'RUNNING'"))[pid]

    def frozen_mid_work() -> bool:
        """After 50 successes, freeze the victim at a moment when it is running jobs."""
        if job_counts(server.url)["SUCCESS"] < 50:
            return False
        victim.pause()
        if running_on_victim() == 0:
            victim.resume()
            return False
        return True

    job_ids = submit(server.url, key, bodies(200, "celery"))
    wait_for("the victim to run jobs after 50 succeeded", frozen_mid_work, 60, server, victim)
    victim.kill()
    killed = time.monotonic()

    wait_for(
        "all 200 jobs to succeed",
        lambda: job_counts(server.url).get("SUCCESS") == 200,
        60,
        server,
        survivor,
    )
    finished = time.monotonic() - killed
    # The survivor put the dead worker's jobs back at once (by pid), not after their leases.
    requeued = re.findall(r"re-queued (\d+) job\(s\) left running", survivor.log(tail=None))
    assert requeued, "the survivor did not recover the dead worker's jobs"
    orphaned = sum(int(n) for n in requeued)
    assert_all_done_once(server.url, key, job_ids)
    assert_doctor_clean(server)
    attempts = by_pid(query(database, "SELECT worker FROM job_attempts"))
    assert set(attempts) <= {pid, survivor.pid}, "only the Celery workers run jobs"
    print(
        f"\ncelery: 200 jobs, one of two workers killed with {orphaned} job(s) running; "
        f"the rest done {finished:.1f} s later"
    )


def sdwebui_provider(url: str, **fields: Any) -> dict[str, Any]:
    """An `sd` provider on the fake web UI with its first checkpoint."""
    return {
        "name": "sd",
        "adapter": "sdwebui",
        "base_url": url,
        "timeout_seconds": 30,
        "models": {CHECKPOINTS[0]: {}},
        **fields,
    }


def provider_calls(fake: FakeProvider) -> list[float]:
    """When each txt2img call reached the fake, in order."""
    seen = httpx.get(f"{fake.url}/_fake/requests", timeout=30.0).json()
    return sorted(r["time"] for r in seen if r["path"] == "/sdapi/v1/txt2img")


@celery_only
def test_jobs_whose_messages_were_lost_run_within_seconds(
    tmp_path: Path, celery_env: dict[str, str], procs: list[Spawned]
) -> None:
    server = ServerProcess(tmp_path / "data", celery_env)
    procs.append(server)
    server.start()
    key = server.create_key()
    job_ids = submit(server.url, key, bodies(20, "lost"))

    # What a worker killed with prefetched messages leaves behind: PENDING jobs, no messages.
    with kombu.Connection(REDIS_URL) as broker:
        channel = broker.default_channel
        wait_for(
            "the server to publish every job",
            # >= : the prompts the jobs created also queue an embedding job of their own
            lambda: channel.queue_declare(queue=QUEUE).message_count >= 20,
            30,
            server,
        )
        channel.queue_purge(QUEUE)
    lost = time.monotonic()
    worker = CeleryWorker(server, "w1")
    procs.append(worker)
    worker.start()
    wait_for("the lost jobs to run", lambda: job_counts(server.url).get("SUCCESS") == 20, 60)
    recovered = time.monotonic() - lost
    # The broker is empty, so the worker re-sends them after a few seconds; it used to wait
    # until they had been due for 15 s, in case their messages were only queued behind others.
    assert recovered < 14, f"lost jobs waited {recovered:.0f} s"
    assert_all_done_once(server.url, key, job_ids)
    print(f"\nlost messages: 20 jobs re-sent and done {recovered:.1f} s after their loss")


@celery_only
def test_a_killed_worker_does_not_keep_its_provider_slots(
    tmp_path: Path, celery_env: dict[str, str], procs: list[Spawned]
) -> None:
    fake = FakeProvider("sdwebui_server", tmp_path)
    procs.append(fake)
    fake.start("/sdapi/v1/samplers")
    httpx.post(f"{fake.url}/_fake/config", json={"delay_seconds": 2.0}).raise_for_status()
    provider = sdwebui_provider(fake.url, concurrency=2)
    env = {**celery_env, "PROMPTCANVAS_PROVIDERS": json.dumps([provider])}
    server = ServerProcess(tmp_path / "data", env)
    procs.append(server)
    server.start()
    key = server.create_key()
    victim, survivor = CeleryWorker(server, "w1"), CeleryWorker(server, "w2")
    procs.extend([victim, survivor])
    victim.start()

    job_ids = submit(server.url, key, bodies(6, "slots", provider="sd", model=CHECKPOINTS[0]))
    # Both of the provider's slots are taken by the victim's calls in flight: kill it then.
    wait_for("two calls in flight", lambda: len(provider_calls(fake)) >= 2, 30, victim)
    victim.kill()
    killed = time.monotonic()
    survivor.start()
    wait_for(
        "the survivor to finish every job",
        lambda: job_counts(server.url).get("SUCCESS") == 6,
        60,
        server,
        survivor,
    )
    finished = time.monotonic() - killed
    # Worker startup, recovery and three rounds of 2 s calls on two slots: well under the
    # provider's timeout (30 s), which is how long a dead worker's slots used to be kept.
    assert finished < 20, f"the dead worker's provider slots held everything up {finished:.0f} s"
    assert_all_done_once(server.url, key, job_ids)
    print(f"\nslots: a worker killed mid-call; every job done {finished:.1f} s later")


@celery_only
def test_celery_workers_share_a_per_minute_limit(
    tmp_path: Path, celery_env: dict[str, str], procs: list[Spawned]
) -> None:
    fake = FakeProvider("sdwebui_server", tmp_path)
    procs.append(fake)
    fake.start("/sdapi/v1/samplers")
    provider = sdwebui_provider(fake.url, requests_per_minute=60, concurrency=8)
    env = {**celery_env, "PROMPTCANVAS_PROVIDERS": json.dumps([provider])}
    server, workers, key = start_cluster(tmp_path, env, procs)

    submit(server.url, key, bodies(150, "limited", provider="sd", model=CHECKPOINTS[0]))

    wait_for("the first provider call", lambda: bool(provider_calls(fake)), 30, server, *workers)
    first = provider_calls(fake)[0]
    # The first minute's budget goes at once; the next calls may start a minute after it.
    wait_for(
        "the second minute's calls",
        lambda: len(provider_calls(fake)) >= 100 or time.time() > first + 70,
        80,
        server,
        *workers,
    )
    times = provider_calls(fake)
    busiest = max(bisect.bisect_left(times, t + 60.0) - i for i, t in enumerate(times))
    in_first_minute = bisect.bisect_left(times, first + 60.0)
    assert busiest <= 60, f"{busiest} calls within one minute"
    assert in_first_minute >= 55, f"the budget was not used: {in_first_minute} in the minute"
    assert len(times) > 60, "the calls did not resume in the next minute"
    assert job_counts(server.url).get("FAILURE", 0) == 0
    attempts = by_pid(query(env["PROMPTCANVAS_DATABASE_URL"], "SELECT worker FROM job_attempts"))
    assert set(attempts) == {w.pid for w in workers}, "both workers called the provider"
    print(
        f"\nrate limit: {len(times)} calls in {times[-1] - first:.1f} s, "
        f"{in_first_minute} in the first minute, at most {busiest} in any 60 s"
    )
