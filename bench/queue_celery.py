"""Celery mode of bench.queue: worker processes on PostgreSQL and Redis.

With `--provider inproc` (the default) each worker process runs the same 200 ms in-process
model as the embedded bench, registered as provider `fake`, its 8 slots shared by every worker
through the Redis throttle: the figure is the queue's own overhead. With `--provider sdwebui`
the model is the fake SD web UI in its own process, reached over HTTP: the figure then also
pays for HTTP, JSON and base64 inside each slot.

    .venv/bin/python -m bench.queue --mode celery --workers 2 --worker-concurrency 8

This module is also the worker entry point the bench starts (`python -m bench.queue_celery
worker ...`): `promptcanvas worker --celery` with the in-process model registered.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.queue import REPO, SlowModel, submit_all, summary, wait_done
from promptcanvas.adapters.queue.celery import run_worker
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ProviderConfig, Settings
from tests.fakes.sdwebui_server import CHECKPOINTS


class Child:
    """A subprocess with its output in a log file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=out, stderr=out)

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def register_fake(c: Container, latency: float, concurrency: int) -> None:
    """Provider `fake`: the bench's 200 ms model, limited to `concurrency` calls at once."""
    config = ProviderConfig(name="fake", adapter="local", concurrency=concurrency)
    c.registry.entries["fake"] = ProviderEntry(config, SlowModel(latency, 512))


def celery(args: argparse.Namespace) -> dict[str, float]:
    """Celery workers in separate processes on PostgreSQL and Redis."""
    import redis

    admin = sa.create_engine(
        args.postgres_url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    name = f"pc_bench_queue_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = args.postgres_url.rsplit("/", 1)[0] + f"/{name}"
    broker = redis.Redis.from_url(args.redis_url)
    broker.flushdb()  # a dedicated db index: no tasks or limits left from an earlier run
    with tempfile.TemporaryDirectory(prefix="pc-queue-bench-") as tmp, ExitStack() as stack:
        stack.callback(lambda: _drop(admin, name))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTCANVAS_")}
        env.update(
            PROMPTCANVAS_DATA_DIR=tmp,
            PROMPTCANVAS_DATABASE_URL=database_url,
            PROMPTCANVAS_STORAGE_URL=f"file://{tmp}/files",
            PROMPTCANVAS_QUEUE="celery",
            PROMPTCANVAS_BROKER_URL=args.redis_url,
        )
        if args.provider == "sdwebui":
            provider, model = _start_sdwebui(args, env, Path(tmp), stack), CHECKPOINTS[0]
            worker_argv = [sys.executable, "-m", "promptcanvas", "worker", "--celery"]
        else:
            provider, model = "fake", "toy"
            worker_argv = [sys.executable, "-m", "bench.queue_celery", "worker"]
            worker_argv += ["--latency", str(args.latency), "--slots", str(args.concurrency)]
        os.environ.update(env)
        c = bootstrap(Settings())  # migrates before any worker connects
        stack.callback(c.close)
        if provider == "fake":
            register_fake(c, args.latency, args.concurrency)
        owner = c.users.add_user("bench").id
        started = None
        if args.preload:
            took = submit_all(c, owner, args.jobs, provider, model)
        for i in range(args.workers):
            argv = [*worker_argv, "--concurrency", str(args.worker_concurrency)]
            argv += ["--name", f"bench{i}@%h"]
            worker = Child(argv, env, Path(tmp) / f"worker{i}.log")
            stack.callback(worker.stop)
            worker.wait_for(lambda w=worker: " ready." in w.log.read_text(), f"worker {i}")
        what = "in-process model" if provider == "fake" else "fake SD web UI over HTTP"
        print(
            f"celery: {args.workers} workers x {args.worker_concurrency} threads, PostgreSQL, "
            f"Redis, {what} {args.latency * 1000:.0f} ms x {args.concurrency} slots, "
            f"{os.cpu_count()} cores"
        )
        if not args.preload:
            started = c.clock.now()
            took = submit_all(c, owner, args.jobs, provider, model)
        wait_done(c, args.jobs, timeout=args.jobs / 10 + 120)
        return summary(c, args, started, took)


def _start_sdwebui(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, stack: ExitStack
) -> str:
    """Start the fake SD web UI; configure provider `sdwebui` for every process."""
    port = _free_port()
    fake = Child(
        [sys.executable, "-m", "tests.fakes.sdwebui_server", "--port", str(port)],
        dict(env),
        tmp / "sdwebui.log",
    )
    stack.callback(fake.stop)
    url = f"http://127.0.0.1:{port}"
    fake.wait_for(lambda: answers(f"{url}/sdapi/v1/samplers"), "the fake SD web UI")
    httpx.post(f"{url}/_fake/config", json={"delay_seconds": args.latency}).raise_for_status()
    provider = {
        "name": "sdwebui",
        "adapter": "sdwebui",
        "base_url": url,
        "concurrency": args.concurrency,
        "timeout_seconds": 30,
        "models": {CHECKPOINTS[0]: {}},
    }
    env["PROMPTCANVAS_PROVIDERS"] = json.dumps([provider])
    return "sdwebui"


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def worker_main() -> None:
    """A Celery worker process with the bench's in-process model as provider `fake`."""
    parser = argparse.ArgumentParser(prog="bench.queue_celery worker")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--name", default=None)
    args = parser.parse_args(sys.argv[2:])
    settings = Settings()
    c = bootstrap(settings)
    register_fake(c, args.latency, args.slots)
    run_worker(settings, concurrency=args.concurrency, name=args.name, container=c)


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    worker_main()
