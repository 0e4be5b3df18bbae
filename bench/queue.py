"""Job throughput against a provider's limit: 2,000 jobs on a fake provider that takes 200 ms
a call and allows 8 at once, so at most 40 jobs/s (goal: at least 95% of that).

    .venv/bin/python -m bench.queue [--jobs 2000] [--mode embedded|celery] [--threads 8]

embedded: an in-process model (FakeImageModel with a 512x512 PNG) registered into the
container, the embedded worker pool (`--threads`) on SQLite in a temp dir (or --database-url).
celery: a throwaway PostgreSQL database on --postgres-url, Redis db --redis-url (flushed), the
fake SD web UI as a subprocess answering after 200 ms, and `--workers` processes of
`promptcanvas worker --celery --concurrency 4`; the provider (`sdwebui`, concurrency 8) comes
from PROMPTCANVAS_PROVIDERS in every process.

Workers run before the first submission; wall time is from the first submission to the last
job's `finished_at`. With --preload every job is submitted first and wall time starts at the
first claim, so a submitter starved of CPU cannot be what limits the figure. Also printed: how
long the submissions took, and where a job's time went (from the job and generation rows; in
embedded mode also per step, timed in-process, and the process's CPU time).
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from PIL import Image

from promptcanvas.adapters.db.tables import generations, jobs
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.domain.jobs import JobStatus
from promptcanvas.ports.providers import GeneratedImage, ImageRequest, ImageResult, Progress
from promptcanvas.ports.providers.fake import FakeImageModel
from promptcanvas.services.generate import GenerationRequest
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ProviderConfig, Settings

REPO = Path(__file__).resolve().parent.parent


class SlowModel(FakeImageModel):
    """FakeImageModel answering every call after `latency` with one ready-made PNG."""

    def __init__(self, latency: float, size: int) -> None:
        super().__init__("fake", latency=latency)
        # Smooth noise: a PNG of a few hundred KiB, like a real 512x512 output.
        noise = np.random.default_rng(0).integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        out = io.BytesIO()
        Image.fromarray(noise).resize((size, size), Image.Resampling.BILINEAR).save(out, "PNG")
        self.png = out.getvalue()

    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        """Sleep, then return the PNG n times (the runner's metadata makes each unique)."""
        time.sleep(self.latency)
        image = GeneratedImage(self.png, "image/png", seed=request.seed)
        return ImageResult((image,) * request.n)


class Steps:
    """Seconds spent in named steps of the runner, summed over every worker thread."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self._lock = threading.Lock()

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Time every call of owner.name (an instance attribute shadows the method)."""
        inner: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                with self._lock:
                    self.total[label] = self.total.get(label, 0.0) + time.perf_counter() - t0
                    self.count[label] = self.count.get(label, 0) + 1

        setattr(owner, name, timed)

    def report(self, jobs_done: int) -> str:
        """Mean milliseconds per job and calls per job, per step."""
        lines = ["| step | ms per job | calls per job |", "|---|---|---|"]
        for label, seconds in self.total.items():
            lines.append(
                f"| {label} | {seconds * 1000 / jobs_done:.1f} "
                f"| {self.count[label] / jobs_done:.2f} |"
            )
        return "\n".join(lines)


def instrument(c: Container, model: SlowModel) -> Steps:
    """Time claim, slot wait, provider call, file preparation, storage puts and the commit."""
    steps = Steps()
    steps.wrap(c.runner, "_claim", "claim (DB)")
    steps.wrap(c.runner, "_acquire", "provider slot wait")
    steps.wrap(model, "generate_image", "provider call")
    steps.wrap(c.runner, "_store", "store: files + DB commit")
    steps.wrap(c.assets, "prepare_output", "  of which: inspect, thumbnail, hash, puts")
    steps.wrap(c.storage, "put", "  of which: storage.put (fsync)")
    steps.wrap(c.runner, "_metadata", "PNG metadata text")
    return steps


def submit_all(c: Container, owner: str, count: int, provider: str, model: str) -> list[float]:
    """Submit `count` generations one by one; the seconds each submission took."""
    took = []
    for i in range(count):
        t0 = time.perf_counter()
        c.generations.submit(
            owner,
            GenerationRequest(
                provider=provider,
                model=model,
                text=f"bench {i}: a lighthouse on a cliff at dusk, oil painting",
                seed=i,
                params={"width": 512, "height": 512},
            ),
        )
        took.append(time.perf_counter() - t0)
    return took


def wait_done(c: Container, count: int, timeout: float) -> dict[JobStatus, int]:
    """Poll the job table until `count` jobs have ended (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while True:
        with c.runner.uow(write=False) as uow:
            counts = uow.jobs.counts()
        if sum(counts[s] for s in JobStatus if s.terminal) >= count:
            return counts
        if time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def rows(c: Container) -> list[dict[str, Any]]:
    """Per job: its worker, created, started, finished and the provider's latency."""
    query = sa.select(
        jobs.c.worker, jobs.c.created_at, jobs.c.started_at, jobs.c.finished_at,
        jobs.c.attempts, generations.c.latency_ms,
    ).join(generations, generations.c.job_id == jobs.c.id)  # fmt: skip
    with c.db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def summary(
    c: Container, args: argparse.Namespace, started: Any | None, took: list[float]
) -> dict[str, float]:
    """Throughput against the limit, submission times, and where a job's time went.

    `started` is when the first submission began; None (with --preload) times from the first
    claim instead. Returns the headline figures.
    """
    found = rows(c)
    done = [r for r in found if r["finished_at"] is not None]
    if started is None:
        started = min(r["started_at"] for r in done)
    wall = (max(r["finished_at"] for r in done) - started).total_seconds()
    limit = args.concurrency / args.latency
    rate = len(done) / wall
    print(f"- {len(done):,} of {args.jobs:,} jobs done in {wall:.2f} s: **{rate:.1f} jobs/s**, "
          f"{rate / limit:.1%} of the {limit:.0f} jobs/s limit (goal 95%)")  # fmt: skip
    ordered = sorted(took)
    print(
        f"- {len(took):,} submissions in {sum(took):.2f} s "
        f"({len(took) / sum(took):.0f}/s; per submission p50 "
        f"{statistics.median(took) * 1000:.1f} ms, p95 "
        f"{ordered[int(0.95 * len(ordered)) - 1] * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms)"
    )
    run = [(r["finished_at"] - r["started_at"]).total_seconds() * 1000 for r in done]
    call = [r["latency_ms"] for r in done]
    wait = [(r["started_at"] - r["created_at"]).total_seconds() for r in done]
    print(
        f"- per job: claim to finish p50 {statistics.median(run):.0f} ms "
        f"(provider call p50 {statistics.median(call):.0f} ms, so "
        f"{statistics.median(run) - statistics.median(call):.0f} ms of slot wait, files and "
        f"database); queued p50 {statistics.median(wait):.1f} s, max {max(wait):.1f} s; "
        f"retries {sum(r['attempts'] - 1 for r in done)}"
    )
    # A worker thread's idle time between finishing one job and claiming the next (delivery,
    # acknowledgement, the claim), taken while the queue was still full.
    gaps = []
    by_worker: dict[str, list[dict[str, Any]]] = {}
    for r in done:
        by_worker.setdefault(r["worker"] or "", []).append(r)
    last_start = sorted(r["started_at"] for r in done)[-len(by_worker)]
    for mine in by_worker.values():
        mine.sort(key=lambda r: r["started_at"])
        for prev, nxt in itertools.pairwise(mine):
            if nxt["started_at"] < last_start:
                gaps.append((nxt["started_at"] - prev["finished_at"]).total_seconds() * 1000)
    if gaps:
        print(
            f"- between jobs, per worker thread: p50 {statistics.median(gaps):.1f} ms, "
            f"mean {statistics.mean(gaps):.1f} ms from one job's finish to its next claim"
        )
    return {"done": len(done), "jobs_per_s": rate, "limit": limit, "wall_s": wall}


def embedded(args: argparse.Namespace) -> dict[str, float]:
    """The embedded worker pool on SQLite (or --database-url) in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="pc-queue-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp), database_url=args.database_url, storage_url=f"file://{tmp}/files"
        )
        c = bootstrap(settings)
        try:
            model = SlowModel(args.latency, 512)
            config = ProviderConfig(name="fake", adapter="local", concurrency=args.concurrency)
            c.registry.entries["fake"] = ProviderEntry(config, model)
            steps = instrument(c, model)
            owner = c.users.add_user("bench").id
            print(
                f"embedded: {args.threads} worker threads, {settings.database_kind}, "
                f"provider {args.latency * 1000:.0f} ms x {args.concurrency} slots, "
                f"{len(model.png) // 1024} KiB PNG, {os.cpu_count()} cores"
            )
            pool = c.worker_pool(threads=args.threads)
            started = None
            if args.preload:
                took = submit_all(c, owner, args.jobs, "fake", "toy")
            cpu = time.process_time()
            pool.start()
            try:
                if not args.preload:
                    started = c.clock.now()
                    took = submit_all(c, owner, args.jobs, "fake", "toy")
                wait_done(c, args.jobs, timeout=args.jobs / 10 + 60)
            finally:
                pool.stop()
            cpu = time.process_time() - cpu
            figures = summary(c, args, started, took)
            what = "workers" if args.preload else "submissions and workers"
            print(
                f"- CPU time of this process ({what}): {cpu:.1f} s, "
                f"{cpu * 1000 / args.jobs:.1f} ms per job"
            )
            print()
            print(steps.report(args.jobs))
        finally:
            c.close()
    return figures


def main() -> None:
    """Run one mode and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--mode", choices=("embedded", "celery"), default="embedded")
    parser.add_argument("--threads", type=int, default=8, help="embedded worker threads")
    parser.add_argument("--latency", type=float, default=0.2, help="provider seconds per call")
    parser.add_argument("--concurrency", type=int, default=8, help="provider slots")
    parser.add_argument("--database-url", default=None, help="embedded: default a new SQLite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument(
        "--provider",
        choices=("inproc", "sdwebui"),
        default="inproc",
        help="celery: the 200 ms model inside each worker, or the fake SD web UI over HTTP",
    )
    parser.add_argument(
        "--preload", action="store_true", help="submit every job before the workers start"
    )
    args = parser.parse_args()
    if args.mode == "embedded":
        embedded(args)
    else:
        from bench.queue_celery import celery

        celery(args)


if __name__ == "__main__":
    main()
