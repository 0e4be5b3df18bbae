"""Stored embeddings and the embedding queue on SQLite or PostgreSQL (EmbeddingStore)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from promptcanvas.adapters.db.engine import Database
from promptcanvas.adapters.db.repositories import _PROMPT_COLUMNS, _prompt
from promptcanvas.adapters.db.tables import (
    assets,
    embedding_queue,
    generation_assets,
    generations,
    jobs,
    prompt_embeddings,
    prompt_tags,
    prompts,
)
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.semantic import EmbeddingStore, Filters, Queued, StoredVector, Vector

_CHUNK = 500  # values per IN (...): well under both databases' parameter limits
_LIVE = ("PENDING", "RUNNING")


def pack(vector: Vector) -> bytes:
    """float16 little-endian bytes: half the space, no loss that changes a ranking."""
    return np.asarray(vector, dtype="<f2").tobytes()


def unpack(blob: bytes) -> Vector:
    """The float32 vector stored by `pack`."""
    return np.frombuffer(blob, dtype="<f2").astype(np.float32)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


class SqlEmbeddingStore(EmbeddingStore):
    """Each method is one short transaction of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _tx(self, *, write: bool = False) -> AbstractContextManager[sa.Connection]:
        return self.db.transaction(write=write)

    def queued_owners(self) -> list[str]:
        """Owners with prompts waiting to be embedded."""
        with self._tx() as conn:
            rows = conn.execute(sa.select(embedding_queue.c.owner_id).distinct())
            return [r[0] for r in rows]

    def owners_with_jobs(self, kind: str) -> set[str]:
        """Owners with a live job of this kind."""
        stmt = sa.select(jobs.c.owner_id).where(jobs.c.kind == kind, jobs.c.status.in_(_LIVE))
        with self._tx() as conn:
            return {r[0] for r in conn.execute(stmt.distinct())}

    def take(self, owner_id: str, limit: int) -> list[Queued]:
        """Oldest queued prompts of the owner, with their current text."""
        stmt = (
            sa.select(embedding_queue.c.id, prompts.c.pk, prompts.c.text)
            .join_from(embedding_queue, prompts, prompts.c.pk == embedding_queue.c.prompt_pk)
            .where(embedding_queue.c.owner_id == owner_id)
            .order_by(embedding_queue.c.id)
            .limit(limit)
        )
        with self._tx() as conn:
            return [Queued(r[0], r[1], r[2]) for r in conn.execute(stmt)]

    def hashes(self, identity: str, pks: Sequence[int]) -> dict[int, str]:
        """Text hashes of vectors already stored for these prompts."""
        found: dict[int, str] = {}
        with self._tx() as conn:
            for chunk in _chunks(list(pks)):
                stmt = sa.select(prompt_embeddings.c.prompt_pk, prompt_embeddings.c.text_hash)
                stmt = stmt.where(
                    prompt_embeddings.c.identity == identity,
                    prompt_embeddings.c.prompt_pk.in_(chunk),
                )
                found.update({r[0]: r[1] for r in conn.execute(stmt)})
        return found

    def save(
        self,
        identity: str,
        owner_id: str,
        rows: Sequence[tuple[int, str, Vector]],
        done: Sequence[int],
        now: datetime,
    ) -> None:
        """Upsert vectors and drop the queue rows they answer."""
        with self._tx(write=True) as conn:
            if rows:
                insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
                stmt = insert(prompt_embeddings)
                keep = ("owner_id", "dim", "vector", "text_hash", "updated_at")
                stmt = stmt.on_conflict_do_update(
                    index_elements=["prompt_pk", "identity"],
                    set_={n: stmt.excluded[n] for n in keep},
                )
                values = [
                    {
                        "prompt_pk": pk,
                        "identity": identity,
                        "owner_id": owner_id,
                        "dim": int(vector.shape[0]),
                        "vector": pack(vector),
                        "text_hash": text_hash,
                        "updated_at": now,
                    }
                    for pk, text_hash, vector in rows
                ]
                conn.execute(stmt, values)
            for chunk in _chunks(list(done)):
                conn.execute(embedding_queue.delete().where(embedding_queue.c.id.in_(chunk)))

    def enqueue_missing(self, identity: str) -> int:
        """Queue prompts lacking a vector of this identity, unless already queued."""
        has_vector = sa.exists().where(
            prompt_embeddings.c.prompt_pk == prompts.c.pk, prompt_embeddings.c.identity == identity
        )
        queued = sa.exists().where(embedding_queue.c.prompt_pk == prompts.c.pk)
        missing = (
            sa.select(prompts.c.pk, prompts.c.owner_id)
            .where(~has_vector, ~queued)
            .order_by(prompts.c.pk)
        )
        with self._tx(write=True) as conn:
            result = conn.execute(
                embedding_queue.insert().from_select(["prompt_pk", "owner_id"], missing)
            )
            return max(0, result.rowcount or 0)

    def _vectors(self, conn: sa.Connection, stmt: sa.Select[Any]) -> list[StoredVector]:
        return [StoredVector(r[0], r[1], unpack(r[2])) for r in conn.execute(stmt)]

    def load(self, identity: str, after_pk: int, limit: int) -> list[StoredVector]:
        """A page of stored vectors by pk."""
        e = prompt_embeddings.c
        stmt = sa.select(e.prompt_pk, e.owner_id, e.vector).where(
            e.identity == identity, e.prompt_pk > after_pk
        )
        with self._tx() as conn:
            return self._vectors(conn, stmt.order_by(e.prompt_pk).limit(limit))

    def changed_since(self, identity: str, since: datetime) -> list[StoredVector]:
        """Vectors written at or after `since`."""
        e = prompt_embeddings.c
        stmt = sa.select(e.prompt_pk, e.owner_id, e.vector, e.updated_at).where(
            e.identity == identity, e.updated_at >= since
        )
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(e.prompt_pk))
            return [StoredVector(r[0], r[1], unpack(r[2]), r[3]) for r in rows]

    def coverage(self, identity: str) -> tuple[int, int, int]:
        """(prompts, prompts with a vector of this identity, queued rows)."""
        count = sa.func.count()
        with self._tx() as conn:
            total = conn.execute(sa.select(count).select_from(prompts)).scalar_one()
            done = conn.execute(
                sa.select(count).where(prompt_embeddings.c.identity == identity)
            ).scalar_one()
            queued = conn.execute(sa.select(count).select_from(embedding_queue)).scalar_one()
        return int(total), int(done), int(queued)

    def drop_other_identities(self, identity: str) -> int:
        """Delete vectors made by other embedders."""
        with self._tx(write=True) as conn:
            result = conn.execute(
                prompt_embeddings.delete().where(prompt_embeddings.c.identity != identity)
            )
            return max(0, result.rowcount or 0)

    def prompt_ref(self, owner_id: str, prompt_id: str) -> tuple[int, str] | None:
        """(pk, text) of the owner's prompt."""
        stmt = sa.select(prompts.c.pk, prompts.c.text).where(
            prompts.c.owner_id == owner_id, prompts.c.id == prompt_id
        )
        with self._tx() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def resolve(self, owner_id: str, pks: Sequence[int], filters: Filters) -> dict[int, Prompt]:
        """The owner's prompts among pks that pass the filters."""
        found: dict[int, Prompt] = {}
        with self._tx() as conn:
            for chunk in _chunks(list(pks)):
                stmt = _filtered(owner_id, filters).where(prompts.c.pk.in_(chunk))
                found.update({p.pk: p for p in map(_prompt, conn.execute(stmt)) if p.pk})
        return found

    def prompts_of_asset(self, owner_id: str, asset_id: str) -> list[int]:
        """Prompts with a generation that holds the asset."""
        stmt = (
            sa.select(prompts.c.pk)
            .join_from(generation_assets, generations)
            .join(prompts, prompts.c.id == generations.c.prompt_id)
            .where(generation_assets.c.asset_id == asset_id, prompts.c.owner_id == owner_id)
            .distinct()
        )
        with self._tx() as conn:
            return [int(r[0]) for r in conn.execute(stmt)]

    def assets_of_prompts(self, owner_id: str, pks: Sequence[int]) -> dict[int, list[str]]:
        """Assets of these prompts' generations, in generation then position order."""
        found: dict[int, list[str]] = {}
        with self._tx() as conn:
            for chunk in _chunks(list(pks)):
                stmt = (
                    sa.select(prompts.c.pk, generation_assets.c.asset_id)
                    .join_from(generation_assets, generations)
                    .join(prompts, prompts.c.id == generations.c.prompt_id)
                    .where(prompts.c.pk.in_(chunk), prompts.c.owner_id == owner_id)
                    .order_by(generations.c.created_at, generation_assets.c.position)
                )
                for pk, asset_id in conn.execute(stmt):
                    found.setdefault(int(pk), []).append(asset_id)
        return found

    def phashes(self, owner_id: str) -> list[tuple[str, str]]:
        """(asset id, phash) of the owner's hashed images."""
        stmt = sa.select(assets.c.id, assets.c.phash).where(
            assets.c.owner_id == owner_id, assets.c.phash.is_not(None)
        )
        with self._tx() as conn:
            return [(r[0], r[1]) for r in conn.execute(stmt)]


def _filtered(owner_id: str, filters: Filters) -> sa.Select[Any]:
    stmt = sa.select(*_PROMPT_COLUMNS).where(prompts.c.owner_id == owner_id)
    deleted = prompts.c.deleted_at
    stmt = stmt.where(deleted.is_not(None) if filters.trashed else deleted.is_(None))
    for tag in filters.tags:
        tagged = prompt_tags.alias()
        stmt = stmt.where(
            sa.exists().where(tagged.c.prompt_pk == prompts.c.pk, tagged.c.tag == tag)
        )
    if filters.category is not None:
        stmt = stmt.where(prompts.c.category == filters.category)
    if filters.project_id is not None:
        stmt = stmt.where(prompts.c.project_id == filters.project_id)
    if filters.starred is not None:
        stmt = stmt.where(prompts.c.starred.is_(filters.starred))
    if filters.since is not None:
        stmt = stmt.where(prompts.c.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(prompts.c.created_at < filters.until)
    if filters.model is not None:
        cond = [generations.c.prompt_id == prompts.c.id, generations.c.model == filters.model]
        if filters.model_version is not None:
            cond.append(generations.c.model_version == filters.model_version)
        stmt = stmt.where(sa.exists().where(*cond))
    return stmt
