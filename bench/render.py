"""Render times of the offline `local` provider's sketch model, by size and version.

    python -m bench.render [--reps 10] [--sizes 512,1024] [--by-prompt]

Each sample is one picture through the same steps as LocalProvider.generate_image: read the
prompt, draw, finish, encode the PNG. Prompts cycle through a mix (plain scenes, every art style,
Korean and English); seeds change with each repetition. After a warm-up the cases are timed
round-robin, so a slow spell of the machine spreads over all of them. Prints Markdown tables.
The goal is p95 ≤ 150 ms for a 1024x1024 picture, PNG encode included.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import PIL

from promptcanvas.adapters.providers import sketch
from promptcanvas.adapters.providers.scene import plan

GOAL_MS = 150.0
PROMPTS = [
    "밤하늘 아래 고양이",
    "sunny beach at noon",
    "강아지가 해변을 달리는 노을 풍경, 수채화",
    "cyberpunk city at night, neon, rain",
    "a garden of flowers, oil painting",
    "a house on a hill, pencil sketch",
    "snowy mountain lake in the morning, calm",
    "a red car on a street, pixel art",
    "lighthouse by the sea at sunset, dramatic, cinematic",
    "a fox in a forest, anime",
    "수묵화 산 안개",
    "axolotl quantum jar",
]


@dataclass
class Case:
    """One size and version, with its samples in milliseconds and PNG sizes in bytes."""

    size: int
    version: str
    render: list[float] = field(default_factory=list)
    encode: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    png: list[int] = field(default_factory=list)


def rank(samples: list[float], p: float) -> float:
    """The p-th quantile by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def once(case: Case, prompt: str, seed: int) -> None:
    """Time one picture and record it in the case."""
    start = time.perf_counter()
    picture = sketch.render(plan(prompt), case.size, case.size, seed, case.version)
    drawn = time.perf_counter()
    data = sketch.encode_png(picture)
    done = time.perf_counter()
    case.render.append((drawn - start) * 1000)
    case.encode.append((done - drawn) * 1000)
    case.total.append((done - start) * 1000)
    case.png.append(len(data))


def table(cases: list[Case]) -> str:
    """p50 / p95 of each step, per size and version, as Markdown."""
    lines = [
        "| size | version | render p50 / p95 ms | encode p50 / p95 ms | total p50 / p95 ms "
        "| max ms | goal p95 | met | PNG KiB p50 |",
        "|" + "---|" * 9,
    ]
    for c in cases:
        cells = [f"{c.size}x{c.size}", c.version]
        for samples in (c.render, c.encode, c.total):
            cells.append(f"{rank(samples, 0.5):.1f} / {rank(samples, 0.95):.1f}")
        cells.append(f"{max(c.total):.1f}")
        met = rank(c.total, 0.95) <= GOAL_MS
        cells += [f"{GOAL_MS:.0f}" if c.size == 1024 else "", "yes" if met else "**no**"]
        cells.append(f"{statistics.median(c.png) / 1024:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_prompt(size: int, reps: int) -> str:
    """Total p50 per prompt and version at one size: which scenes and styles cost most."""
    lines = [f"| prompt ({size}x{size}) | v1 total p50 ms | v2 total p50 ms |", "|---|---|---|"]
    for prompt in PROMPTS:
        cells = [prompt]
        for version in sketch.VERSIONS:
            case = Case(size, version)
            for seed in range(reps):
                once(case, prompt, seed)
            cells.append(f"{rank(case.total, 0.5):.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Time every size and version, then print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=10, help="pictures per prompt and case")
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--by-prompt", action="store_true", help="also break down by prompt")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cases = [Case(size, version) for size in sizes for version in sketch.VERSIONS]
    for case in cases:  # warm-up: imports, allocator, first-call costs
        once(case, PROMPTS[0], 0)
        for samples in (case.render, case.encode, case.total, case.png):
            samples.clear()
    load_before = os.getloadavg()[0]
    for seed in range(args.reps):
        for prompt in PROMPTS:
            for case in cases:
                once(case, prompt, seed)
    print(
        f"- {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, Pillow {PIL.__version__}; "
        f"{len(PROMPTS)} prompts x {args.reps} seeds per case; load avg (1 min) "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print()
    print(table(cases))
    if args.by_prompt:
        print()
        print(by_prompt(max(sizes), max(3, args.reps // 2)))


if __name__ == "__main__":
    main()
