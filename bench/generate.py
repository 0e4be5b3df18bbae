"""Fill an empty PromptCanvas database with a realistic, seeded library for benchmarks.

    python -m bench.generate --prompts 100000 --database-url sqlite:////tmp/pc-bench.db

Rows go in with SQLAlchemy Core executemany inside large transactions; search entries are made
by the app's own code (`fts_row` into prompt_fts on SQLite, `tsvector_literal` through
the same UPDATE as `PostgresSearch.put` on PostgreSQL). Assets are rows only: they point at a
few shared blob keys that do not exist in any store, which search never reads.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.compose import Composer
from bench.vocab import MODELS, PROJECT_NAMES, SAMPLERS, SIZES
from promptcanvas.adapters.db import migrate
from promptcanvas.adapters.db.engine import WRITE_OPTION, Database, create_database
from promptcanvas.adapters.db.search import fts_row, fts_terms, tsvector_literal
from promptcanvas.adapters.db.tables import (
    assets,
    generation_assets,
    generations,
    projects,
    prompt_tags,
    prompts,
    users,
)
from promptcanvas.domain.assets import blob_key, thumbnail_key
from promptcanvas.domain.prompts import Prompt
from promptcanvas.domain.text import detect_language

START = datetime(2023, 1, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
# The first user owns most of the library (a self-hosted studio); search.py searches as them.
USERS = [("bench", 0.85), ("alice", 0.06), ("minji", 0.05), ("jun", 0.04)]
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_PROMPT_COLUMNS = [c.name for c in prompts.columns]


def ulid(rng: random.Random, at: datetime) -> str:
    """An id shaped like promptcanvas.domain.ids.new_id, but from the seeded generator."""
    value = (int(at.timestamp() * 1000) << 80) | rng.getrandbits(80)
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))


@dataclass
class Batch:
    """Rows of one transaction, table by table."""

    prompts: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    search: list[dict[str, Any]] = field(default_factory=list)
    generations: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)


class Library:
    """Makes users, projects and then prompts with their outputs, deterministically."""

    def __init__(self, seed: int, total: int, kind: str) -> None:
        self.rng = random.Random(seed)
        self.compose = Composer(self.rng)
        self.total = total
        self.kind = kind
        self.user_ids = [ulid(self.rng, START - timedelta(days=30)) for _ in USERS]
        self.owner_cum = [sum(w for _, w in USERS[: i + 1]) for i in range(len(USERS))]
        self.projects: dict[str, list[str]] = {u: [] for u in self.user_ids}
        self.recent: dict[str, deque[Prompt]] = {u: deque(maxlen=500) for u in self.user_ids}
        self.blobs = [f"{self.rng.getrandbits(256):064x}" for _ in range(64)]

    def people(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """User and project rows."""
        created = START - timedelta(days=30)
        user_rows = [
            {"id": uid, "name": name, "is_admin": i == 0, "created_at": created}
            for i, (uid, (name, _)) in enumerate(zip(self.user_ids, USERS, strict=True))
        ]
        project_rows = []
        for uid in self.user_ids:
            for name in PROJECT_NAMES:
                pid = ulid(self.rng, created)
                self.projects[uid].append(pid)
                project_rows.append(
                    {"id": pid, "owner_id": uid, "name": name, "created_at": created}
                )
        return user_rows, project_rows

    def prompt(self, pk: int) -> Prompt:
        """Prompt number pk: a new wording, or (one in ten) a revision of a recent one."""
        rng = self.rng
        span = (END - START).total_seconds()
        created = START + timedelta(seconds=span * (pk - 1 + 0.9 * rng.random()) / self.total)
        owner = rng.choices(self.user_ids, cum_weights=self.owner_cum)[0]
        recent = self.recent[owner]
        parent = rng.choice(recent) if recent and rng.random() < 0.1 else None
        if parent is not None:
            text, category, tags = self.compose.variation(parent.text), parent.category, parent.tags
            project = parent.project_id
        else:
            text, category, tags = self.compose.text(), self.compose.category(), self.compose.tags()
            project = rng.choice(self.projects[owner]) if rng.random() < 0.6 else None
        deleted = created + timedelta(days=rng.random() * 30) if rng.random() < 0.02 else None
        prompt = Prompt(
            pk=pk,
            id=ulid(rng, created),
            owner_id=owner,
            text=text,
            negative_text=self.compose.negative(),
            category=category,
            tags=tags,
            language=detect_language(text),
            starred=rng.random() < 0.05,
            rating=rng.choice([None, None, None, 3, 4, 5, 1, 2]),
            author=None,
            project_id=project,
            parent_id=parent.id if parent else None,
            created_at=created,
            updated_at=deleted or created,
            deleted_at=deleted,
        )
        recent.append(prompt)
        return prompt

    def outputs(self, prompt: Prompt, batch: Batch) -> None:
        """Generations (none for drafts) with one to four images each."""
        rng = self.rng
        if rng.random() < 0.3:
            return
        for _ in range(rng.choices([1, 2, 3, 4], [45, 30, 15, 10])[0]):
            at = prompt.created_at + timedelta(seconds=rng.random() * 86400 * 3)
            provider, model, version = rng.choice(MODELS)
            width, height = rng.choice(SIZES)
            gid = ulid(rng, at)
            params = {"steps": rng.choice([20, 25, 30, 40]), "cfg_scale": rng.choice([5, 6, 7])}
            params.update(width=width, height=height, sampler=rng.choice(SAMPLERS))
            batch.generations.append(
                {
                    "id": gid,
                    "owner_id": prompt.owner_id,
                    "prompt_id": prompt.id,
                    "provider": provider,
                    "model": model,
                    "model_version": version,
                    "parameters": params,
                    "seed": rng.getrandbits(32),
                    "status": "SUCCESS",
                    "cost": round(rng.random() * 0.08, 4) if provider == "openai" else None,
                    "latency_ms": rng.randint(800, 40_000),
                    "created_at": at,
                }
            )
            for position in range(rng.choices([1, 2, 4], [60, 15, 25])[0]):
                blob = rng.choice(self.blobs)
                aid = ulid(rng, at)
                batch.assets.append(
                    {
                        "id": aid,
                        "owner_id": prompt.owner_id,
                        "sha256": f"{rng.getrandbits(256):064x}",
                        "media_type": "image/png",
                        "size": rng.randint(200_000, 3_000_000),
                        "width": width,
                        "height": height,
                        "storage_key": blob_key(blob),
                        "thumbnail_key": thumbnail_key(blob),
                        "created_at": at,
                    }
                )
                batch.links.append({"generation_id": gid, "asset_id": aid, "position": position})
            prompt.output_count += 1

    def batch(self, first_pk: int, count: int) -> Batch:
        """Rows for prompts first_pk .. first_pk + count - 1."""
        batch = Batch()
        for pk in range(first_pk, first_pk + count):
            prompt = self.prompt(pk)
            self.outputs(prompt, batch)
            batch.prompts.append({name: getattr(prompt, name) for name in _PROMPT_COLUMNS})
            batch.tags.extend(
                {"prompt_pk": pk, "tag": t, "owner_id": prompt.owner_id} for t in prompt.tags
            )
            if self.kind == "sqlite":
                batch.search.append(fts_row(prompt))
            else:
                batch.search.append({"pk": pk, "v": tsvector_literal(prompt)})
        return batch


# The same statements as SqliteSearch.put / PostgresSearch.put, run as executemany.
SQLITE_INDEX = sa.text(
    "INSERT INTO prompt_fts(rowid, text_doc, meta_doc, negative_doc, filter_doc) "
    "VALUES (:pk, :t, :m, :n, :f)"
)
SQLITE_TERMS = sa.text("INSERT OR IGNORE INTO search_terms(term) VALUES (:term)")
POSTGRES_INDEX = sa.text("UPDATE prompts SET search_vector = CAST(:v AS tsvector) WHERE pk = :pk")


def write(conn: sa.Connection, batch: Batch, kind: str) -> None:
    """Insert one batch; the caller owns the transaction."""
    conn.execute(prompts.insert(), batch.prompts)
    if batch.tags:
        conn.execute(prompt_tags.insert(), batch.tags)
    conn.execute(SQLITE_INDEX if kind == "sqlite" else POSTGRES_INDEX, batch.search)
    if kind == "sqlite" and (words := fts_terms(batch.search)):
        conn.execute(SQLITE_TERMS, words)
    if batch.generations:
        conn.execute(generations.insert(), batch.generations)
        conn.execute(assets.insert(), batch.assets)
        conn.execute(generation_assets.insert(), batch.links)


def load(db: Database, total: int, seed: int, batch_size: int) -> None:
    """Migrate, then write users, projects and `total` prompts in batches."""
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(prompts)).scalar_one():
            sys.exit("the database already has prompts; give an empty one")
    library = Library(seed, total, db.kind)
    started = time.perf_counter()
    with db.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        if db.kind == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")  # 1 GB: random sha256 indexes
            conn.commit()
        with conn.begin():
            user_rows, project_rows = library.people()
            conn.execute(users.insert(), user_rows)
            conn.execute(projects.insert(), project_rows)
        for first in range(1, total + 1, batch_size):
            count = min(batch_size, total + 1 - first)
            batch = library.batch(first, count)
            with conn.begin():
                write(conn, batch, db.kind)
            done = first + count - 1
            elapsed = time.perf_counter() - started
            print(f"{done:>9,} prompts  {elapsed:7.1f} s  {done / elapsed:8,.0f}/s", flush=True)
        finish(conn, db.kind)
    elapsed = time.perf_counter() - started
    print(f"loaded {total:,} prompts in {elapsed:.1f} s; {describe(db)}")


def finish(conn: sa.Connection, kind: str) -> None:
    """Leave the database as a running deployment would have it after a quiet moment."""
    if kind == "sqlite":
        # Outside any transaction, so straight on the driver connection.
        conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    conn.execute(
        sa.text("SELECT setval(pg_get_serial_sequence('prompts', 'pk'), max(pk)) FROM prompts")
    )
    conn.commit()
    # What autovacuum would get to shortly after a bulk load; VACUUM cannot run in a transaction.
    auto = conn.execution_options(isolation_level="AUTOCOMMIT")
    auto.exec_driver_sql("VACUUM (ANALYZE)")


def describe(db: Database) -> str:
    """Row counts and the size on disk."""
    with db.engine.connect() as conn:
        counts = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (prompts, prompt_tags, generations, assets, generation_assets)
        }
        if db.kind == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = pages * conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        else:
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
    rows = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    return f"{rows}; database {size / 2**20:,.0f} MiB"


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=100_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--batch", type=int, default=20_000, help="prompts per transaction")
    args = parser.parse_args(argv)
    db = create_database(args.database_url)
    try:
        load(db, args.prompts, args.seed, args.batch)
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
