"""The outputs listing on SQLite or PostgreSQL (OutputStore): keyset pages over one index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from promptcanvas.adapters.db.engine import Database
from promptcanvas.adapters.db.tables import (
    assets,
    generation_assets,
    generations,
    prompt_tags,
    prompts,
)
from promptcanvas.ports.gallery import Facets, Output, OutputQuery, OutputStore

CAPTION_CHARS = 300  # enough for a caption and alt text; a prompt may be far longer
_CHUNK = 500

g, ga, a, p = generations, generation_assets, assets, prompts
_COLUMNS = [
    g.c.id.label("generation_id"),
    ga.c.asset_id,
    ga.c.position,
    g.c.prompt_id,
    sa.func.substr(p.c.text, 1, CAPTION_CHARS).label("prompt_text"),
    g.c.provider,
    g.c.model,
    g.c.model_version,
    g.c.seed,
    a.c.width,
    a.c.height,
    a.c.media_type,
    g.c.created_at,
    p.c.starred,
    p.c.rating,
    p.c.tags,
    p.c.category,
    p.c.project_id,
    a.c.phash,
    p.c.pk.label("prompt_pk"),
    g.c.trashed_at,
]
# Written exactly as in ix_prompts_owner_rating (a bound -1 would not match the index).
_RATING = sa.func.coalesce(p.c.rating, sa.literal_column("-1"))


def _not_indexed(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """SQLite's unary plus: the same value, but the planner may not serve it from an index."""
    return sa.literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


def _output(row: sa.Row[Any]) -> Output:
    m = dict(row._mapping)
    m["tags"] = list(m["tags"] or [])
    return Output(**m)


def _bind(value: object, column: sa.ColumnElement[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(None, value, type_=column.type)


def _after(
    keys: Sequence[sa.ColumnElement[Any]], values: Sequence[object], desc: bool, pos: int
) -> sa.ColumnElement[bool]:
    """Rows strictly after a key: (keys) beyond (values), or equal keys and a later position.

    Written as one row-value range plus a filter, so both databases keep walking the index.
    """
    left = sa.tuple_(*keys)
    right = sa.tuple_(*(_bind(v, k) for k, v in zip(keys, values, strict=True)))
    same = sa.and_(*(k == _bind(v, k) for k, v in zip(keys, values, strict=True)))
    in_range = left <= right if desc else left >= right
    return sa.and_(in_range, sa.not_(sa.and_(same, ga.c.position <= pos)))


class SqlOutputStore(OutputStore):
    """Each method is one short transaction of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, query: OutputQuery) -> list[Output]:
        """Up to `limit` outputs after `after`, in order."""
        stmt = (
            sa.select(*_COLUMNS)
            .select_from(g)
            .join(ga, ga.c.generation_id == g.c.id)
            .join(a, a.c.id == ga.c.asset_id)
            .join(p, p.c.id == g.c.prompt_id)
            .where(p.c.owner_id == query.owner_id, p.c.deleted_at.is_(None))
        )
        owner: sa.ColumnElement[Any] = g.c.owner_id
        trashed: sa.ColumnElement[Any] = g.c.trashed_at
        if query.sort in ("rating", "relevance") and self.db.kind == "sqlite":
            # Left to itself SQLite walks generations by date and sorts them all (250 ms at
            # 100k outputs); hiding their owner index makes it walk prompts by rating (4 ms)
            # or look the searched prompts' generations up by prompt id.
            owner, trashed = _not_indexed(g.c.owner_id), _not_indexed(g.c.trashed_at)
        stmt = stmt.where(owner == query.owner_id)
        stmt = stmt.where(trashed.is_not(None) if query.trashed else trashed.is_(None))
        stmt = self._filter(stmt, query)
        stmt = self._order(stmt, query).limit(query.limit)
        with self.db.transaction() as conn:
            return [_output(r) for r in conn.execute(stmt)]

    @staticmethod
    def _filter(stmt: sa.Select[Any], query: OutputQuery) -> sa.Select[Any]:
        if query.prompt_ids is not None:
            stmt = stmt.where(g.c.prompt_id.in_(query.prompt_ids))
        if query.tag is not None:
            stmt = stmt.where(
                sa.exists().where(prompt_tags.c.prompt_pk == p.c.pk, prompt_tags.c.tag == query.tag)
            )
        for column, value in (
            (p.c.category, query.category),
            (p.c.project_id, query.project_id),
            (g.c.provider, query.provider),
            (g.c.model, query.model),
            (g.c.model_version, query.model_version),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if query.starred is not None:
            stmt = stmt.where(p.c.starred.is_(query.starred))
        if query.since is not None:
            stmt = stmt.where(g.c.created_at >= query.since)
        if query.until is not None:
            stmt = stmt.where(g.c.created_at < query.until)
        return stmt

    @staticmethod
    def _order(stmt: sa.Select[Any], query: OutputQuery) -> sa.Select[Any]:
        after = query.after
        if query.sort == "relevance" and query.prompt_ids:
            ids = list(query.prompt_ids)
            rank = sa.case(
                {pid: i for i, pid in enumerate(ids)}, value=g.c.prompt_id, else_=len(ids)
            )
            if after is not None:
                start = ids.index(after.prompt_id) if after.prompt_id in ids else len(ids)
                here = sa.and_(
                    g.c.prompt_id == after.prompt_id,
                    _after(
                        [g.c.created_at, g.c.id],
                        [after.created_at, after.generation_id],
                        True,
                        after.position,
                    ),
                )
                stmt = stmt.where(sa.or_(g.c.prompt_id.in_(ids[start + 1 :]), here))
            return stmt.order_by(rank, g.c.created_at.desc(), g.c.id.desc(), ga.c.position)
        keys: list[sa.ColumnElement[Any]] = [g.c.created_at, g.c.id]
        values: list[object] = [after.created_at, after.generation_id] if after else []
        if query.sort == "rating":
            # Best-rated prompts first, each prompt's outputs newest first: walks the
            # (owner, rating, pk) index of prompts instead of sorting every output.
            keys[:0] = [_RATING, p.c.pk]
            values = [after.rating, after.prompt_pk, *values] if after else []
        desc = query.sort != "oldest"
        if after is not None:
            stmt = stmt.where(_after(keys, values, desc, after.position))
        return stmt.order_by(*(k.desc() if desc else k.asc() for k in keys), ga.c.position)

    def facets(self, owner_id: str) -> Facets:
        """Distinct providers, models and versions (walks the owner's covering index)."""
        stmt = (
            sa.select(g.c.provider, g.c.model, g.c.model_version)
            .where(g.c.owner_id == owner_id)
            .distinct()
        )
        with self.db.transaction() as conn:
            rows = conn.execute(stmt).all()
        return Facets(
            providers=sorted({r[0] for r in rows}),
            models=sorted({r[1] for r in rows if r[1]}),
            versions=sorted({r[2] for r in rows if r[2]}),
        )

    def prompt_ids(self, owner_id: str, generation_ids: list[str]) -> dict[str, str]:
        """generation id -> prompt id for the owner's generations among these."""
        found: dict[str, str] = {}
        with self.db.transaction() as conn:
            for i in range(0, len(generation_ids), _CHUNK):
                chunk = generation_ids[i : i + _CHUNK]
                stmt = sa.select(g.c.id, g.c.prompt_id).where(
                    g.c.owner_id == owner_id, g.c.id.in_(chunk)
                )
                found.update({r[0]: r[1] for r in conn.execute(stmt)})
        return found

    def set_trashed(
        self, owner_id: str, generation_ids: list[str], when: datetime | None
    ) -> list[str]:
        """Trash or restore them all in one transaction, or change nothing."""
        wanted = list(dict.fromkeys(generation_ids))
        with self.db.transaction(write=True) as conn:
            owned: set[str] = set()
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                stmt = sa.select(g.c.id).where(g.c.owner_id == owner_id, g.c.id.in_(chunk))
                owned.update(r[0] for r in conn.execute(stmt))
            missing = [gid for gid in wanted if gid not in owned]
            if missing:
                return missing
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                conn.execute(
                    g.update()
                    .where(g.c.owner_id == owner_id, g.c.id.in_(chunk))
                    .values(trashed_at=when)
                )
        return []
