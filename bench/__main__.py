"""Run the benchmarks and write BENCHMARKS.md.

    python -m bench                 # full mode: the issues' sizes, 3 runs a figure -> BENCHMARKS.md
    python -m bench --quick         # small sizes, under 5 minutes -> bench/out/benchmarks-quick.md
    python -m bench --only render,interop --out /tmp/b.md

PostgreSQL figures need --postgres-url (default PROMPTCANVAS_BENCH_POSTGRES_URL): a URL of the
server; the runner makes databases of its own there (pc_bench_*), never touching the one named
in the URL. The Celery queue figure also needs --redis-url (PROMPTCANVAS_BENCH_REDIS_URL), a
Redis db index the runner may flush. Generated libraries are cached in bench/.cache/.
A benchmark that fails is reported as "error: ..." and the run goes on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.markdown import machine, render
from bench.run import REGISTRY, REPEATS, REPO, SIZES, Context, Figure, Outcome, load_all, run_one

OUT = Path(__file__).parent / "out"


def parse(argv: list[str] | None) -> argparse.Namespace:
    load_all()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        action="store_const",
        dest="mode",
        const="quick",
        help="small sizes, < 5 min; writes bench/out/benchmarks-quick.md",
    )
    mode.add_argument(
        "--smoke",
        action="store_const",
        dest="mode",
        const="smoke",
        help="tiny sizes, one run: checks the harness works",
    )
    parser.add_argument("--only", help="comma-separated names: " + ",".join(REGISTRY))
    parser.add_argument("--out", type=Path, help="default: BENCHMARKS.md (full) or bench/out/")
    parser.add_argument("--postgres-url", default=os.environ.get("PROMPTCANVAS_BENCH_POSTGRES_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("PROMPTCANVAS_BENCH_REDIS_URL"))
    parser.add_argument("--repeats", type=int, help="runs per figure (default: full 3, quick 2)")
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="KEY=N",
        help="override one size, e.g. search_prompts=20000",
    )
    parser.add_argument("--list", action="store_true", help="list benchmarks and sizes")
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the earlier results of benchmarks not run now (from the mode's results "
        "file) and write the report with both; each says when and at which commit it ran",
    )
    args = parser.parse_args(argv)
    args.mode = args.mode or "full"
    names = [n.strip() for n in (args.only or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    args.names = names or list(REGISTRY)
    args.sizes = dict(SIZES[args.mode])
    for item in args.size:
        key, _, value = item.partition("=")
        if key not in args.sizes or not value.isdigit():
            parser.error(f"--size {item}: expected KEY=N with KEY one of {', '.join(args.sizes)}")
        args.sizes[key] = int(value)
    if args.out is None:
        default = OUT / f"benchmarks-{args.mode}.md"
        args.out = REPO / "BENCHMARKS.md" if args.mode == "full" else default
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks in issue order and write the report."""
    args = parse(argv)
    if args.list:
        for item in REGISTRY.values():
            print(f"{item.name:14s} issue {item.issue}: {item.area}")
        print("sizes:", ", ".join(f"{k}={v}" for k, v in args.sizes.items()))
        return 0
    ctx = Context(
        mode=args.mode,
        sizes=args.sizes,
        repeats=args.repeats or REPEATS[args.mode],
        postgres_url=args.postgres_url,
        redis_url=args.redis_url,
    )
    info = machine(args.postgres_url)
    started = time.perf_counter()
    chosen = sorted((REGISTRY[n] for n in args.names), key=lambda b: b.issue)
    results = []
    for item in chosen:
        print(f"== {item.name} ({ctx.mode}, {ctx.repeats} runs)", file=sys.stderr, flush=True)
        outcome = run_one(item, ctx)
        print(f"== {item.name}: {outcome.status} in {outcome.seconds:.0f} s", file=sys.stderr)
        results.append((item, outcome))
    info["seconds"] = time.perf_counter() - started
    info["load_after"] = os.getloadavg()[0]
    store = results_path(args.mode)
    runs = {item.name: run_record(info, outcome) for item, outcome in results}
    if args.update:
        earlier = load_results(store)
        runs = {**{n: r for n, r in earlier.items() if n in REGISTRY}, **runs}
    chosen_all = sorted((REGISTRY[n] for n in runs), key=lambda b: b.issue)
    merged = [(item, outcome_of(runs[item.name])) for item in chosen_all]
    stamps = {n: (r["commit"], r["date"], r.get("cpu_reference_ms")) for n, r in runs.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(info, ctx.mode, merged, stamps))
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n")
    print(f"written to {args.out} (results kept in {store})", file=sys.stderr)
    return 0


def results_path(mode: str) -> Path:
    """Where a mode's results are kept for --update: the full mode's beside the code (they are
    what BENCHMARKS.md shows, so they are committed), the others under bench/out/."""
    return Path(__file__).parent / "results-full.json" if mode == "full" else OUT / f"{mode}.json"


def run_record(info: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """One benchmark's outcome with the commit and date it was measured at."""
    return {
        "commit": info["commit"] + ("+dirty" if info["dirty"] else ""),
        "date": info["date"],
        "cpu_reference_ms": info["cpu_reference_ms"],
        "outcome": dataclasses.asdict(outcome),
    }


def load_results(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def outcome_of(record: dict[str, Any]) -> Outcome:
    data = dict(record["outcome"])
    data["figures"] = [Figure(**fig) for fig in data.get("figures", [])]
    return Outcome(**data)


if __name__ == "__main__":
    sys.exit(main())
