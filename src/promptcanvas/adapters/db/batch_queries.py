"""Batch re-run queries over thousands of prompts and jobs, a few chunked statements each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from promptcanvas.adapters.db.repositories import attach_assets, generation_from_row
from promptcanvas.adapters.db.tables import generations, jobs, prompts
from promptcanvas.domain.assets import Generation
from promptcanvas.domain.jobs import JobStatus
from promptcanvas.ports.jobs import RerunSource

# Bound parameters per IN list: well under SQLite's and PostgreSQL's limits, and large enough
# that 10,000 prompts cost 20 round trips.
CHUNK = 500


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


@dataclass(frozen=True)
class _Latest:
    created_at: datetime
    id: str
    seed: int | None
    parameters: str | None


def _latest_successes(conn: sa.Connection, chunk: list[str]) -> dict[str, _Latest]:
    """The newest SUCCESS generation of each prompt in the chunk (parameters as JSON text)."""
    # No owner_id here: with it SQLite walks the owner's whole (owner_id, cache_key) index once
    # per chunk instead of the prompt_id index. The caller reads only the owner's prompts.
    rows = conn.execute(
        sa.select(
            generations.c.prompt_id,
            generations.c.created_at,
            generations.c.id,
            generations.c.seed,
            sa.cast(generations.c.parameters, sa.Text),
        ).where(
            generations.c.prompt_id.in_(chunk),
            generations.c.status == JobStatus.SUCCESS.value,
        )
    )
    newest: dict[str, _Latest] = {}
    for prompt_id, created_at, gen_id, seed, parameters in rows:
        seen = newest.get(prompt_id)
        if seen is None or (created_at, gen_id) > (seen.created_at, seen.id):
            newest[prompt_id] = _Latest(created_at, gen_id, seed, parameters)
    return newest


def rerun_sources(
    conn: sa.Connection, owner_id: str, prompt_ids: Sequence[str], *, latest: bool
) -> dict[str, RerunSource]:
    """The owner's prompts among these ids, each with its newest successful generation."""
    found: dict[str, RerunSource] = {}
    # A library's outputs mostly share a few parameter sets: parse each distinct text once.
    parsed: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(prompt_ids):
        newest = _latest_successes(conn, chunk) if latest else {}
        rows = conn.execute(
            sa.select(
                prompts.c.id, prompts.c.text, prompts.c.negative_text, prompts.c.deleted_at
            ).where(prompts.c.owner_id == owner_id, prompts.c.id.in_(chunk))
        )
        for r in rows:
            source = newest.get(r.id)
            found[r.id] = RerunSource(
                prompt_id=r.id,
                text=r.text,
                negative_text=r.negative_text,
                trashed=r.deleted_at is not None,
                source_id=source.id if source else None,
                seed=source.seed if source else None,
                parameters=_parameters(parsed, source.parameters) if source else {},
            )
    return found


def _parameters(parsed: dict[str, dict[str, Any]], raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    if raw not in parsed:
        try:
            value = json.loads(raw)
        except ValueError:
            value = {}
        parsed[raw] = value if isinstance(value, dict) else {}
    return dict(parsed[raw])


def generations_by_ids(
    conn: sa.Connection, owner_id: str, ids: Sequence[str]
) -> dict[str, Generation]:
    """The owner's generations among these ids, with asset ids."""
    found: list[Generation] = []
    for chunk in _chunks(ids):
        rows = conn.execute(
            sa.select(generations).where(
                generations.c.owner_id == owner_id, generations.c.id.in_(chunk)
            )
        )
        found.extend(generation_from_row(r) for r in rows)
    return {g.id: g for g in attach_assets(conn, found)}


def batch_started(conn: sa.Connection, batch_id: str) -> datetime | None:
    """The earliest claim of any job of the batch."""
    value: datetime | None = conn.execute(
        sa.select(sa.func.min(jobs.c.started_at)).where(jobs.c.batch_id == batch_id)
    ).scalar()
    return value


_RETRYABLE = (JobStatus.FAILURE.value, JobStatus.CANCELLED.value)


def requeue_batch(conn: sa.Connection, owner_id: str, batch_id: str, now: datetime) -> list[str]:
    """FAILURE and CANCELLED jobs of the batch back to PENDING, as `requeue` does one by one."""
    ids = [
        r[0]
        for r in conn.execute(
            sa.select(jobs.c.id).where(
                jobs.c.batch_id == batch_id,
                jobs.c.owner_id == owner_id,
                jobs.c.status.in_(_RETRYABLE),
            )
        )
    ]
    requeued: list[str] = []
    for chunk in _chunks(ids):
        # RETURNING: a job that changed state meanwhile is neither requeued nor reset.
        rows = conn.execute(
            jobs.update()
            .where(jobs.c.id.in_(chunk), jobs.c.status.in_(_RETRYABLE))
            .values(
                status=JobStatus.PENDING.value,
                target_index=0,
                target_attempts=0,
                error=None,
                error_kind=None,
                progress=0.0,
                run_after=now,
                finished_at=None,
                updated_at=now,
            )
            .returning(jobs.c.id)
        )
        done = [r[0] for r in rows]
        if done:
            conn.execute(
                generations.update()
                .where(
                    generations.c.job_id.in_(done),
                    generations.c.status != JobStatus.SUCCESS.value,
                )
                .values(status=JobStatus.PENDING.value, error=None, finished_at=None)
            )
        requeued.extend(done)
    return requeued
