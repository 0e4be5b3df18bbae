"""Gallery figures: server time of the gallery's first page and of GET /api/v1/outputs at scale.

    python -m bench.gallery                     # 100,000 outputs on a fresh SQLite library
    python -m bench.gallery --outputs 20000 --runs 30

Builds one user's library quickly: prompts through the prompt repository (so the full-text
index and tags stay in step), then generations, assets and their links as bulk Core inserts,
then lets the embed jobs run so search works. Every case is an in-process request through the
ASGI app (TestClient) with a signed-in browser session, timed round-robin after a warm-up:
the figure is the server's time including routing, the queries and rendering, without a
network. Prints a Markdown table and writes bench/out/gallery.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bench.report import machine
from promptcanvas.adapters.db.repositories import SqlPromptRepository
from promptcanvas.adapters.db.search import SqliteSearch
from promptcanvas.adapters.db.tables import assets, generation_assets, generations
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.domain.ids import new_id
from promptcanvas.domain.prompts import new_prompt
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.entrypoints.api.deps import SESSION_COOKIE
from promptcanvas.settings import Settings

OUT = Path(__file__).parent / "out"
GOAL_MS = 300.0
SUBJECTS = [
    "a cute puppy running through a sunny meadow",
    "a red fox standing in fresh snow",
    "a lighthouse on a rocky coast during a storm",
    "a bowl of steaming ramen with egg",
    "portrait of a knight in shining armor",
    "a vintage red sports car on a coastal road",
    "a cozy cabin in a pine forest at night",
    "a futuristic city skyline with flying cars",
    "an old fisherman mending nets by the harbor",
    "a field of sunflowers under a blue sky",
    "a dragon curled around a ruined tower",
    "a cat sleeping on a stack of books",
]
STYLES = ["watercolor", "oil painting", "35mm photo", "anime", "pixel art", "ink sketch"]
LIGHT = ["golden hour", "dramatic light", "soft morning light", "neon glow", "overcast"]
TAGS = ["portrait", "landscape", "animal", "food", "city", "fantasy", "sdxl", "draft"]
MODELS = [("local", "sketch", "1"), ("local", "sketch", "2"), ("sdwebui", "sdxl", "1.0")]


@dataclass
class Case:
    """One request timed many times."""

    name: str
    url: str
    samples: list[float] = field(default_factory=list)
    items: int = 0

    def stats(self) -> dict[str, Any]:
        """n, p50, p95 and max in milliseconds."""
        ordered = sorted(self.samples)

        def rank(p: float) -> float:
            return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

        return {
            "case": self.name,
            "url": self.url,
            "items": self.items,
            "n": len(ordered),
            "p50": round(rank(0.5), 1),
            "p95": round(rank(0.95), 1),
            "max": round(ordered[-1], 1),
        }


def build(c: Container, owner_id: str, outputs: int, per_prompt: int, seed: int) -> None:
    """A library of `outputs` outputs: per_prompt outputs (2 assets per generation) a prompt."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    span = timedelta(days=365).total_seconds()
    prompt_count = max(1, outputs // per_prompt)
    project = c.projects.create_project(owner_id, "Bench series")
    t0 = time.perf_counter()
    prompt_rows: list[tuple[str, datetime]] = []
    with c.db.transaction(write=True) as conn:
        repo = SqlPromptRepository(conn, SqliteSearch())
        for i in range(prompt_count):
            when = start + timedelta(seconds=span * i / prompt_count)
            text = f"{rng.choice(SUBJECTS)}, {rng.choice(STYLES)}, {rng.choice(LIGHT)}"
            prompt = new_prompt(
                owner_id=owner_id,
                text=text,
                now=when,
                tags=rng.sample(TAGS, 2),
                category=rng.choice(["portrait", "landscape", None]),
                starred=rng.random() < 0.05,
                rating=rng.choice([None, None, 3, 4, 5]),
                project_id=project.id if rng.random() < 0.3 else None,
            )
            prompt.output_count = per_prompt
            repo.add(prompt)
            prompt_rows.append((prompt.id, when))
    t1 = time.perf_counter()
    gen_rows: list[dict[str, Any]] = []
    asset_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    for prompt_id, when in prompt_rows:
        for g in range(per_prompt // 2):
            gid = new_id()
            made = when + timedelta(minutes=g)
            provider, model, version = rng.choice(MODELS)
            gen_rows.append(
                {
                    "id": gid,
                    "owner_id": owner_id,
                    "prompt_id": prompt_id,
                    "provider": provider,
                    "model": model,
                    "model_version": version,
                    "parameters": {"width": 512, "height": 512},
                    "seed": rng.randrange(2**31),
                    "status": "SUCCESS",
                    "created_at": made,
                    "trashed_at": made if rng.random() < 0.01 else None,
                }
            )
            for position in range(2):
                aid = new_id()
                sha = hashlib.sha256(aid.encode()).hexdigest()
                asset_rows.append(
                    {
                        "id": aid,
                        "owner_id": owner_id,
                        "sha256": sha,
                        "media_type": "image/png",
                        "size": 200_000,
                        "width": 512,
                        "height": 512,
                        "storage_key": f"blobs/{sha[:2]}/{sha[2:4]}/{sha}",
                        "thumbnail_key": f"thumbs/{sha[:2]}/{sha}.webp",
                        "created_at": made,
                        "phash": f"{rng.getrandbits(64):016x}",
                    }
                )
                link_rows.append({"generation_id": gid, "asset_id": aid, "position": position})
    with c.db.transaction(write=True) as conn:
        for table, rows in ((generations, gen_rows), (assets, asset_rows)):
            for i in range(0, len(rows), 5000):
                conn.execute(table.insert(), rows[i : i + 5000])
        for i in range(0, len(link_rows), 5000):
            conn.execute(generation_assets.insert(), link_rows[i : i + 5000])
        conn.exec_driver_sql("ANALYZE")
    t2 = time.perf_counter()
    c.indexer.tick()
    while c.runner.run_next():
        pass
    c.indexer.tick()
    t3 = time.perf_counter()
    print(
        f"built {prompt_count:,} prompts in {t1 - t0:.1f} s, {len(link_rows):,} outputs in "
        f"{t2 - t1:.1f} s, embeddings in {t3 - t2:.1f} s"
    )


def signed_in(c: Container, name: str) -> TestClient:
    """An in-process client with a browser session."""
    client = TestClient(create_app(c))
    _user, session = c.users.login_with_token(c.users.create_login_token(name))
    client.cookies.set(SESSION_COOKIE, session)
    return client


def deep_cursor(client: TestClient, pages: int) -> str:
    """The cursor `pages` pages (of 60) into the listing."""
    cursor = ""
    for _ in range(pages):
        body = client.get("/api/v1/outputs", params={"cursor": cursor} if cursor else {}).json()
        cursor = body["next_cursor"]
    return cursor


def cases(client: TestClient, deep_pages: int) -> list[Case]:
    """Every case, in report order."""
    deep = deep_cursor(client, deep_pages)
    return [
        Case("GET / (gallery page, first 60)", "/"),
        Case("GET /timeline (first 60)", "/timeline"),
        Case("outputs first page", "/api/v1/outputs"),
        Case(f"outputs page {deep_pages + 1} (cursor)", f"/api/v1/outputs?cursor={deep}"),
        Case("outputs tag=food", "/api/v1/outputs?tag=food"),
        Case("outputs model=sdxl", "/api/v1/outputs?model=sdxl&model_version=1.0"),
        Case("outputs starred", "/api/v1/outputs?starred=true"),
        Case(
            "outputs tag+starred+model (rare)",
            "/api/v1/outputs?tag=food&starred=true&model=sdxl",
        ),
        Case("outputs tag matching nothing (worst case)", "/api/v1/outputs?tag=no-such-tag"),
        Case("outputs date range (1 month)", "/api/v1/outputs?since=2025-06-01&until=2025-06-30"),
        Case("outputs sort=rating", "/api/v1/outputs?sort=rating"),
        Case("outputs collapse=near", "/api/v1/outputs?collapse=near"),
        Case("outputs q=puppy", "/api/v1/outputs?q=puppy"),
        Case("outputs q=강아지 (Korean)", "/api/v1/outputs?q=강아지"),
        Case("GET /?q=강아지 (gallery page)", "/?q=강아지"),
        Case("outputs trash", "/api/v1/outputs?trashed=true"),
    ]


def measure(
    outputs: int,
    runs: int,
    per_prompt: int = 4,
    deep_pages: int = 200,
    seed: int = 7,
    data_dir: Path | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Build (or reuse data_dir's library), warm up, time every case; stats and machine info."""
    with tempfile.TemporaryDirectory(prefix="pc-bench-gallery-") as tmp:
        settings = Settings(data_dir=data_dir or Path(tmp), semantic_background=False, workers=0)
        c = bootstrap(settings)
        try:
            if not any(u.name == "bench" for u in c.users.list_users()):
                owner = c.users.add_user("bench")
                c.users.add_user("other")  # tenancy: someone else's rows exist too
                build(c, owner.id, outputs, per_prompt, seed)
            else:
                c.indexer.tick()  # load the stored vectors into the index
            client = signed_in(c, "bench")
            todo = cases(client, max(1, min(deep_pages, outputs // 60 - 2)))
            for case in todo:  # warm-up, and a check that each case answers
                response = client.get(case.url)
                assert response.status_code == 200, (case.url, response.text[:300])
                if response.headers["content-type"].startswith("application/json"):
                    case.items = len(response.json()["data"])
                else:
                    case.items = response.text.count('class="g-card')
            for _ in range(runs):
                for case in todo:
                    t = time.perf_counter()
                    response = client.get(case.url)
                    case.samples.append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 200
            results = [case.stats() for case in todo]
            info = machine(c)
        finally:
            c.close()
    return results, info


def main() -> None:
    """Build, warm up, time, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outputs", type=int, default=100_000)
    parser.add_argument("--per-prompt", type=int, default=4, help="even: 2 assets a generation")
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--deep-pages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir", type=Path, help="keep the library here; reuse it if already built"
    )
    args = parser.parse_args()
    results, info = measure(
        args.outputs, args.runs, args.per_prompt, args.deep_pages, args.seed, args.data_dir
    )
    print(f"\n{args.outputs:,} outputs, {args.runs} runs per case, goal < {GOAL_MS:.0f} ms\n")
    print("| case | items | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['case']} | {r['items']} | {r['p50']} | {r['p95']} | {r['max']} |")
    OUT.mkdir(exist_ok=True)
    report = {"machine": info, "outputs": args.outputs, "runs": args.runs, "results": results}
    (OUT / "gallery.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
