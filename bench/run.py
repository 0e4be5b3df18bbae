"""The benchmark runner's core: figures, the registry of benchmarks, and running them.

A benchmark is a function taking a `Context` (mode, sizes, repeats, database URLs) and
returning an `Outcome`: figures (each with its goal, repeated measurements and a baseline or
peer) plus Markdown detail. `python -m bench` (bench/__main__.py) runs them and writes the
report (bench/markdown.py).
"""

from __future__ import annotations

import os
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass
class Figure:
    """One measured figure: its goal, its repeated runs, and a baseline or peer.

    `direction` is "<=" (lower is better: latencies) or ">=" (rates, accuracy). The ratio says
    how many times better ours is than the baseline in that direction (>1: ours is better).
    A cited baseline is a published figure of a peer, not measured in this run.
    """

    name: str
    unit: str
    runs: list[float]
    goal: float | None = None
    direction: str = "<="
    baseline: list[float] = field(default_factory=list)
    baseline_label: str = ""
    cited: bool = False
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    @property
    def base(self) -> float | None:
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        """How many times better ours (median) is than the baseline (median)."""
        ours, base = self.median, self.base
        if ours is None or base is None:
            return None
        if self.direction == "<=":
            return base / ours if ours > 0 else None
        return ours / base if base > 0 else None

    @property
    def met(self) -> bool | None:
        """Whether the median meets the goal (None without a goal)."""
        if self.goal is None or self.median is None:
            return None
        if self.direction == "<=":
            return self.median <= self.goal
        return self.median >= self.goal


@dataclass
class Outcome:
    """What one benchmark returns: figures, Markdown detail and notes."""

    figures: list[Figure] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"  # "ok", "skipped: why", "error: what"
    seconds: float = 0.0


@dataclass
class Context:
    """How a benchmark should run: the mode's sizes, repeats and where the servers are."""

    mode: str
    sizes: dict[str, int]
    repeats: int
    postgres_url: str | None
    redis_url: str | None

    def size(self, key: str) -> int:
        return self.sizes[key]


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark: its name (for --only), the area it reports under, the issue."""

    name: str
    area: str
    issue: int
    run: Callable[[Context], Outcome]


REGISTRY: dict[str, Benchmark] = {}

# Sizes per mode. "smoke" is the tiny mode the unit test uses to keep the harness working.
SIZES: dict[str, dict[str, int]] = {
    "smoke": {
        "search_prompts": 500,
        "search_prompts_pg": 500,
        "search_reps": 3,
        "like_reps": 1,
        "gallery_outputs": 400,
        "gallery_runs": 2,
        "queue_jobs": 40,
        "celery_jobs": 40,
        "batch_prompts": 200,
        "render_seeds": 1,
        "import_files": 40,
        "interop_rounds": 1,
        "embed_n": 2_000,
        "index_n": 2_000,
        "text_cache_entries": 200,
        "load_clients": 4,
        "load_seconds": 2,
        "semantic_recall": 1,
        "korean": 1,
    },
    "quick": {
        "search_prompts": 5_000,
        "search_prompts_pg": 5_000,
        "search_reps": 10,
        "like_reps": 2,
        "gallery_outputs": 4_000,
        "gallery_runs": 5,
        "queue_jobs": 200,
        "celery_jobs": 200,
        "batch_prompts": 2_000,
        "render_seeds": 2,
        "import_files": 300,
        "interop_rounds": 3,
        "embed_n": 20_000,
        "index_n": 20_000,
        "text_cache_entries": 1_000,
        "load_clients": 10,
        "load_seconds": 3,
        "semantic_recall": 1,
        "korean": 1,
    },
    "full": {
        "search_prompts": 1_000_000,
        "search_prompts_pg": 100_000,
        "search_reps": 20,
        "like_reps": 2,
        "gallery_outputs": 100_000,
        "gallery_runs": 10,
        "queue_jobs": 2_000,
        "celery_jobs": 2_000,
        "batch_prompts": 10_000,
        "render_seeds": 10,
        "import_files": 10_000,
        "interop_rounds": 30,
        "embed_n": 100_000,
        "index_n": 1_000_000,
        "text_cache_entries": 5_000,
        "load_clients": 50,
        "load_seconds": 60,
        "semantic_recall": 1,
        "korean": 1,
    },
}
REPEATS = {"smoke": 1, "quick": 2, "full": 3}


def benchmark(name: str, area: str, issue: int) -> Callable[[Callable[[Context], Outcome]], Any]:
    """Register a benchmark function under `name`."""

    def register(fn: Callable[[Context], Outcome]) -> Callable[[Context], Outcome]:
        REGISTRY[name] = Benchmark(name, area, issue, fn)
        return fn

    return register


def load_all() -> None:
    """Import the modules that register benchmarks."""
    import bench.suite_data
    import bench.suite_models  # noqa: F401


def run_one(item: Benchmark, ctx: Context) -> Outcome:
    """Run one benchmark; an error becomes the outcome's status, never an exception.

    The environment is restored afterwards: some benchmarks (Celery) set PROMPTCANVAS_* vars
    for the processes they start, which must not reach the next benchmark's Settings().
    """
    saved = dict(os.environ)
    started = time.perf_counter()
    try:
        outcome = item.run(ctx)
    except Exception as exc:  # a broken benchmark is reported, the run goes on
        detail = traceback.format_exc(limit=-3)
        outcome = Outcome(status=f"error: {type(exc).__name__}: {exc}".splitlines()[0][:300])
        outcome.details.append("```\n" + detail.strip()[-2000:] + "\n```")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    outcome.seconds = time.perf_counter() - started
    return outcome


def skipped(why: str) -> Outcome:
    """An outcome for a benchmark that could not run here."""
    return Outcome(status=f"skipped: {why}")
