"""The semantic cache of text-model answers on SQLite or PostgreSQL (TextCacheStore)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from promptcanvas.adapters.db.engine import Database
from promptcanvas.adapters.db.tables import ID, UTCDateTime, metadata
from promptcanvas.ports.text_cache import CacheEntry, TextCacheStore

# Mirrors migration 0005. Cached answers are scoped by owner and by a hash of provider,
# model, version, parameters and conversation (`scope`); `key` hashes the request too.
text_cache = sa.Table(
    "text_cache",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("scope", sa.String(64), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("usage", sa.JSON, nullable=False),
    sa.Column("embedder", sa.String(200)),
    sa.Column("vector", sa.LargeBinary),
    sa.Column("hits", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("last_hit_at", UTCDateTime),
    sa.UniqueConstraint("owner_id", "scope", "key", name="uq_text_cache_key"),
)
sa.Index("ix_text_cache_scope", text_cache.c.owner_id, text_cache.c.scope, text_cache.c.created_at)

_FIELDS = ("id", "owner_id", "scope", "key", "request", "answer", "created_at", "expires_at")


def _entry(row: Any) -> CacheEntry:
    m = row._mapping
    blob = m["vector"]
    vector = np.frombuffer(blob, dtype="<f4").copy() if blob is not None else None
    return CacheEntry(
        **{n: m[n] for n in _FIELDS},
        embedder=m["embedder"],
        vector=vector,
        usage=m["usage"] or {},
        hits=m["hits"],
    )


class SqlTextCacheStore(TextCacheStore):
    """Each method is one short transaction of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _tx(self, *, write: bool = False) -> AbstractContextManager[sa.Connection]:
        return self.db.transaction(write=write)

    def exact(self, owner_id: str, scope: str, key: str, now: datetime) -> CacheEntry | None:
        """The live entry with this key."""
        c = text_cache.c
        stmt = sa.select(text_cache).where(
            c.owner_id == owner_id, c.scope == scope, c.key == key, c.expires_at > now
        )
        with self._tx() as conn:
            row = conn.execute(stmt).first()
        return _entry(row) if row is not None else None

    def candidates(
        self,
        owner_id: str,
        scope: str,
        embedder: str,
        now: datetime,
        limit: int,
        since: datetime | None = None,
    ) -> list[CacheEntry]:
        """Live entries with vectors from this embedder, newest first."""
        c = text_cache.c
        stmt = (
            sa.select(text_cache)
            .where(
                c.owner_id == owner_id,
                c.scope == scope,
                c.embedder == embedder,
                c.vector.is_not(None),
                c.expires_at > now,
            )
            .order_by(c.created_at.desc())
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(c.created_at >= since)
        with self._tx() as conn:
            return [_entry(r) for r in conn.execute(stmt)]

    def get(self, entry_id: str, now: datetime) -> CacheEntry | None:
        """One live entry by id."""
        c = text_cache.c
        stmt = sa.select(text_cache).where(c.id == entry_id, c.expires_at > now)
        with self._tx() as conn:
            row = conn.execute(stmt).first()
        return _entry(row) if row is not None else None

    def put(self, entry: CacheEntry) -> None:
        """Upsert on (owner, scope, key); expired entries of the same scope go at once."""
        vector = entry.vector
        values = {n: getattr(entry, n) for n in _FIELDS} | {
            "usage": dict(entry.usage),
            "embedder": entry.embedder if vector is not None else None,
            "vector": np.asarray(vector, dtype="<f4").tobytes() if vector is not None else None,
            "hits": 0,
        }
        insert = sqlite_insert if self.db.kind == "sqlite" else pg_insert
        stmt = insert(text_cache).values(values)
        replaced = {n: stmt.excluded[n] for n in values if n not in ("owner_id", "scope", "key")}
        stmt = stmt.on_conflict_do_update(
            index_elements=["owner_id", "scope", "key"], set_=replaced
        )
        c = text_cache.c
        with self._tx(write=True) as conn:
            conn.execute(
                text_cache.delete().where(
                    c.owner_id == entry.owner_id,
                    c.scope == entry.scope,
                    c.expires_at <= entry.created_at,
                )
            )
            conn.execute(stmt)

    def hit(self, entry_id: str, now: datetime) -> None:
        """Count a use of the entry."""
        c = text_cache.c
        with self._tx(write=True) as conn:
            conn.execute(
                text_cache.update().where(c.id == entry_id).values(hits=c.hits + 1, last_hit_at=now)
            )
