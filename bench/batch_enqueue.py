"""How long queueing a 10,000-prompt batch re-run takes (goal: POST returns in <= 2 s on SQLite).

    .venv/bin/python -m bench.batch_enqueue [--prompts 10000] [--runs 3] [--database-url URL]

Fills a fresh library with N prompts, each with one finished `local:sketch@1` generation
(rows inserted directly), then times, per run: `BatchService.create` by explicit ids, the
same by a tag query (paging the search through every match), and a real
`POST /api/v1/batches` with all N ids through the HTTP app. Each run queues N more jobs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from promptcanvas.adapters.db.engine import WRITE_OPTION
from promptcanvas.adapters.db.tables import generations, prompt_tags, prompts
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.domain.ids import new_id
from promptcanvas.domain.jobs import Target
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.services.batches import BatchRequest
from promptcanvas.services.library import SearchRequest
from promptcanvas.settings import Settings

TAG = "bench"
TARGET = Target("local", "sketch", "2")


def fill(c: Container, owner_id: str, count: int) -> list[str]:
    """`count` prompts tagged TAG, each with one SUCCESS sketch@1 generation; their ids."""
    start = datetime.now(UTC) - timedelta(days=1)
    ids = [new_id() for _ in range(count)]
    rows: list[dict[str, Any]] = []
    gens: list[dict[str, Any]] = []
    for i, prompt_id in enumerate(ids):
        at = start + timedelta(milliseconds=i)
        rows.append(
            {
                "id": prompt_id,
                "owner_id": owner_id,
                "text": f"a lighthouse on a cliff at dusk, number {i}",
                "negative_text": "blurry",
                "category": None,
                "tags": [TAG],
                "language": "en",
                "starred": False,
                "output_count": 1,
                "created_at": at,
                "updated_at": at,
            }
        )
        gens.append(
            {
                "id": new_id(),
                "owner_id": owner_id,
                "prompt_id": prompt_id,
                "provider": "local",
                "model": "sketch",
                "model_version": "1",
                "parameters": {"width": 512, "height": 512, "steps": 20},
                "seed": 1000 + i,
                "status": "SUCCESS",
                "latency_ms": 40,
                "cost": 0.0,
                "created_at": at,
                "finished_at": at,
            }
        )
    with c.db.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        conn.execute(prompts.insert(), rows)
        pks = conn.execute(sa.select(prompts.c.pk).where(prompts.c.owner_id == owner_id)).scalars()
        conn.execute(
            prompt_tags.insert(),
            [{"prompt_pk": pk, "tag": TAG, "owner_id": owner_id} for pk in pks],
        )
        conn.execute(generations.insert(), gens)
        conn.commit()
    if c.db.kind != "sqlite":
        # PostgreSQL plans from statistics that autovacuum would gather within a minute of a
        # bulk load; without them the tag listing walks the whole tag for every page.
        with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    return ids


def timed(action: Any) -> float:
    """Milliseconds one call takes."""
    t0 = time.perf_counter()
    action()
    return (time.perf_counter() - t0) * 1000


def measure(prompts: int, runs: int, database_url: str | None = None) -> dict[str, list[float]]:
    """Fill a fresh library, then time each way of queueing a batch `runs` times (ms)."""
    with tempfile.TemporaryDirectory(prefix="pc-batch-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=database_url,
            storage_url=f"file://{tmp}/files",
            workers=0,
        )
        c = bootstrap(settings)
        try:
            user = c.users.add_user("bench")
            key = c.users.create_key("bench").secret
            t0 = time.perf_counter()
            ids = fill(c, user.id, prompts)
            print(
                f"filled {len(ids):,} prompts in {time.perf_counter() - t0:.1f} s "
                f"({settings.database_kind})"
            )
            by_ids = BatchRequest(TARGET, prompt_ids=tuple(ids), seeds="same")
            by_query = BatchRequest(TARGET, query=SearchRequest(tags=(TAG,)), seeds="same")
            body = {"prompt_ids": ids, "target": TARGET.as_dict(), "seeds": "same"}
            figures: dict[str, list[float]] = {"ids": [], "query": [], "http": []}
            with TestClient(create_app(c)) as client:
                for _ in range(runs):
                    figures["ids"].append(timed(lambda: c.batches.create(user.id, by_ids)))
                    figures["query"].append(timed(lambda: c.batches.create(user.id, by_query)))

                    def post() -> None:
                        response = client.post(
                            "/api/v1/batches", json=body, headers={"Authorization": f"Bearer {key}"}
                        )
                        assert response.status_code == 202, response.text

                    figures["http"].append(timed(post))
        finally:
            c.close()
    return figures


def main() -> None:
    """Fill, then time each way of queueing a batch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    figures = measure(args.prompts, args.runs, args.database_url)
    for name, label in (
        ("ids", "BatchService.create, explicit ids"),
        ("query", "BatchService.create, tag query"),
        ("http", "POST /api/v1/batches, explicit ids"),
    ):
        values = figures[name]
        print(
            f"{label:40s} median {statistics.median(values):7.0f} ms   "
            f"max {max(values):7.0f} ms   ({args.prompts:,} prompts, {len(values)} runs)"
        )


if __name__ == "__main__":
    main()
