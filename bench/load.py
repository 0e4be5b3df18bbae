"""Load test: N concurrent clients against the real server, as its own process, for S seconds.

    python -m bench.load --clients 50 --seconds 60 --db sqlite
    python -m bench.load --db postgres --postgres-url postgresql://postgres@127.0.0.1:5432/test

Starts `promptcanvas serve` on 127.0.0.1 (a free port) over a fresh library (SQLite in a temp
dir, or a new PostgreSQL database created next to --postgres-url and dropped afterwards),
creates users and API keys, seeds a small English and Korean library, then runs the clients in
this process (asyncio + httpx: light, as it shares the machine with the server). Each client
loops over a weighted mix of search (English and Korean), listing, prompt creation, revision,
upload (small PNGs, some identical across clients) and generation (offline `local` provider,
run by the server's embedded workers). Bounded in time and in count.

A failure is any 5xx, any transport error or timeout, and any other status than the one the
route answers when all is well. Prints a table per route (count, failures, p50/p95/p99 ms,
requests/s); --json writes everything. `run_load()` is the same for the benchmark runner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.load_library import (
    EN_WORDS,
    KO_WORDS,
    SEED_PROMPTS,
    USERS,
    Library,
    check_counts,
    drain_jobs,
    png,
    run_doctor,
    sentence,
    served,
)

REQUEST_TIMEOUT = 120.0
SHARED_PNGS = 6  # distinct images every client uploads now and then (same bytes across clients)
JOB_DRAIN_SECONDS = 90.0

# route -> (weight, statuses that mean it worked)
MIX: dict[str, tuple[int, frozenset[int]]] = {
    "search_en": (17, frozenset({200})),
    "search_ko": (15, frozenset({200})),
    "list": (18, frozenset({200})),
    "create": (14, frozenset({201})),
    "revise": (12, frozenset({201})),
    "upload": (12, frozenset({200, 201})),
    "generate": (8, frozenset({202})),
}
ROUTES = list(MIX)
WEIGHTS = [MIX[r][0] for r in ROUTES]


@dataclass
class Tally:
    """Latencies (seconds) and failures per route, shared by all clients (one event loop)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {r: [] for r in ROUTES})
    failures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROUTES, 0))
    examples: list[str] = field(default_factory=list)
    requests: int = 0

    def fail(self, route: str, what: str) -> None:
        self.failures[route] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{route}: {what}")


async def _client(
    lib: Library,
    index: int,
    deadline: float,
    budget: list[int],
    tally: Tally,
    pngs: list[bytes],
) -> None:
    """One user's client: weighted random requests, back to back, until time or budget ends."""
    rng = random.Random(index)
    user = index % len(lib.keys)
    headers = {"Authorization": f"Bearer {lib.keys[user]}"}
    # Prompts of this user that every client of the user revises (the same prompts at once).
    shared = lib.prompts[user]
    mine: list[str] = []
    async with httpx.AsyncClient(
        base_url=lib.url, headers=headers, timeout=REQUEST_TIMEOUT, trust_env=False
    ) as http:
        n = 0
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            n += 1
            route = rng.choices(ROUTES, WEIGHTS)[0]
            target = rng.choice(mine) if mine and rng.random() < 0.5 else rng.choice(shared)
            started = time.perf_counter()
            try:
                response = await _send(http, route, rng, index, n, target, pngs)
            except httpx.HTTPError as exc:
                tally.requests += 1
                tally.fail(route, f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            tally.requests += 1
            if response.status_code not in MIX[route][1]:
                tally.fail(route, f"{response.status_code} {response.text[:200]}")
                continue
            tally.latencies[route].append(elapsed)
            if route in ("create", "revise"):
                mine.append(response.json()["id"])


async def _send(
    http: httpx.AsyncClient,
    route: str,
    rng: random.Random,
    index: int,
    n: int,
    target: str,
    pngs: list[bytes],
) -> httpx.Response:
    if route == "search_en":
        return await http.get("/api/v1/prompts", params={"q": rng.choice(EN_WORDS), "limit": 20})
    if route == "search_ko":
        return await http.get("/api/v1/prompts", params={"q": rng.choice(KO_WORDS), "limit": 20})
    if route == "list":
        params: dict[str, Any] = {"limit": 50}
        if rng.random() < 0.3:
            params["tag"] = rng.choice(["cinematic", "풍경", "sketch", "portrait"])
        return await http.get("/api/v1/prompts", params=params)
    body: dict[str, Any]
    if route == "create":
        body = {"text": sentence(rng, korean=rng.random() < 0.5), "tags": [f"c{index}", "load"]}
        return await http.post("/api/v1/prompts", json=body)
    if route == "revise":
        body = {"text": sentence(rng, korean=rng.random() < 0.5), "note": f"load {index}-{n}"}
        return await http.post(f"/api/v1/prompts/{target}/revisions", json=body)
    if route == "upload":
        # Half the uploads are bytes other clients upload too; half are new bytes.
        data = rng.choice(pngs) if rng.random() < 0.5 else png(1000 + index * 100_000 + n)
        form = {"prompt_id": target, "parameters": json.dumps({"seed": n})}
        if rng.random() < 0.3:
            form = {}
        return await http.post("/api/v1/assets", files={"file": ("load.png", data)}, data=form)
    body = {
        "prompt_id": target,
        "provider": "local",
        "model": "sketch",
        "params": {"width": 256, "height": 256},
        "seed": rng.randrange(2**31),
    }
    return await http.post("/api/v1/generations", json=body)


def _rank(ordered: list[float], p: float) -> float:
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _stats(samples: list[float], failures: int, seconds: float) -> dict[str, Any]:
    ordered = sorted(samples)
    count = len(ordered) + failures
    out: dict[str, Any] = {"count": count, "failures": failures, "rps": count / seconds}
    for name, p in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        out[name] = _rank(ordered, p) * 1000 if ordered else None
    out["max"] = ordered[-1] * 1000 if ordered else None
    return out


def _run_apart(main: Callable[[], Coroutine[Any, Any, float]]) -> float:
    """asyncio.run(main()) on a thread of its own: the caller's thread may already run an
    event loop (Playwright's sync API leaves one in pytest's main thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def run_load(
    clients: int,
    seconds: float,
    db: str,
    postgres_url: str | None = None,
    *,
    max_requests: int | None = None,
) -> dict[str, Any]:
    """Run the load test; per-route and total figures, failures, job outcomes, server errors.

    Returns {"routes": {route: {count, failures, p50, p95, p99, max, rps}}, "total": {...},
    "failures": [first failures], "jobs": {status: n}, "consistency": {...}, "doctor": {...},
    "server_errors": [log lines], "config": {...}}; times in milliseconds.
    """
    budget = [max_requests if max_requests is not None else int(clients * seconds * 100)]
    load_before = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    pngs = [png(s) for s in range(SHARED_PNGS)]
    with served(db, postgres_url) as lib:
        tally = Tally()

        async def main() -> float:
            started = time.monotonic()
            deadline = started + seconds
            await asyncio.gather(
                *(_client(lib, i, deadline, budget, tally, pngs) for i in range(clients))
            )
            return time.monotonic() - started

        elapsed = _run_apart(main)
        job_counts = drain_jobs(lib.database_url, JOB_DRAIN_SECONDS)
        counts = check_counts(lib.database_url)
        checked = run_doctor(lib)
        log = lib.log_path.read_text(errors="replace")
    server_errors = [
        line
        for line in log.splitlines()
        if line.startswith(("ERROR", "CRITICAL")) or "Traceback" in line or "locked" in line
    ]
    routes = {r: _stats(tally.latencies[r], tally.failures[r], elapsed) for r in ROUTES}
    everything = [x for r in ROUTES for x in tally.latencies[r]]
    total = _stats(everything, sum(tally.failures.values()), elapsed)
    return {
        "config": {
            "clients": clients,
            "seconds": seconds,
            "elapsed": elapsed,
            "db": db,
            "users": USERS,
            "seed_prompts_per_user": SEED_PROMPTS,
            "mix": {r: MIX[r][0] for r in ROUTES},
            "cores": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        },
        "routes": routes,
        "total": total,
        "failures": tally.examples,
        "jobs": job_counts,
        "consistency": counts,
        "doctor": {
            k: checked.get(k)
            for k in ("exit_code", "orphaned_files", "rows_with_missing_files", "error")
            if k in checked
        },
        "server_errors": server_errors[:20],
    }


def table(result: dict[str, Any]) -> str:
    """The per-route figures as Markdown."""

    def ms(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    lines = [
        "| route | count | failures | p50 ms | p95 ms | p99 ms | max ms | req/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in [*result["routes"].items(), ("total", result["total"])]:
        cells = [name, str(s["count"]), str(s["failures"]), ms(s["p50"]), ms(s["p95"])]
        cells += [ms(s["p99"]), ms(s["max"]), f"{s['rps']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Command line: run, print a table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("PROMPTCANVAS_TEST_POSTGRES_URL"))
    parser.add_argument("--max-requests", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the full result here")
    args = parser.parse_args()
    result = run_load(
        args.clients, args.seconds, args.db, args.postgres_url, max_requests=args.max_requests
    )
    config = result["config"]
    print(
        f"\n{config['clients']} clients, {config['elapsed']:.1f} s, {config['db']}: "
        f"{result['total']['count']} requests, {result['total']['failures']} failed "
        f"({config['cores']} cores; load average {config['load_average_before']:.1f} before, "
        f"{config['load_average_after']:.1f} after)"
    )
    print(table(result))
    print(f"jobs: {result['jobs']}; {result['consistency']}; doctor: {result['doctor']}")
    for line in result["failures"][:10]:
        print(f"  failure: {line}")
    for line in result["server_errors"][:10]:
        print(f"  server: {line}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    counts = result["consistency"]
    ok = (
        result["total"]["failures"] == 0
        and not result["server_errors"]
        and counts["orphaned_revisions"] == counts["doubled_upload_outputs"] == 0
        and result["doctor"].get("exit_code") == 0
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
