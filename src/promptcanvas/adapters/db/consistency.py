"""The consistency port on SQL: dangling references and jobs whose lease expired."""

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
    jobs,
    portfolio_items,
    prompts,
)
from promptcanvas.domain.jobs import TERMINAL, JobStatus
from promptcanvas.ports import consistency as ports

_RUNNING = JobStatus.RUNNING.value
_UNFINISHED = (JobStatus.PENDING.value, JobStatus.RUNNING.value)
_TERMINAL = tuple(s.value for s in TERMINAL)


def _expired(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        jobs.c.status == _RUNNING, sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now)
    )


def _missing(table: sa.Table, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(table.c.id == column)


class SqlConsistency(ports.ConsistencyChecks):
    """Consistency checks as SQL over the whole database (any owner)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def expired_leases(self, now: datetime, limit: int) -> list[ports.ExpiredLease]:
        """RUNNING jobs whose lease ended before now."""
        stmt = (
            sa.select(
                jobs.c.id, jobs.c.worker, jobs.c.attempts, jobs.c.max_attempts, jobs.c.lease_until
            )
            .where(_expired(now))
            .order_by(jobs.c.id)
            .limit(limit)
        )
        with self.db.transaction() as conn:
            rows = conn.execute(stmt).all()
        return [ports.ExpiredLease(r[0], r[1] or "", r[2], r[3], r[4]) for r in rows]

    def requeue_jobs(self, job_ids: Sequence[str], now: datetime) -> int:
        """Expired RUNNING -> PENDING, the interrupted run counted as an attempt."""
        return self._settle_jobs(
            job_ids,
            now,
            {"status": JobStatus.PENDING.value, "run_after": now},
            JobStatus.PENDING.value,
            None,
        )

    def fail_jobs(self, job_ids: Sequence[str], now: datetime, error: str) -> int:
        """Expired RUNNING -> FAILURE."""
        job_values = {
            "status": JobStatus.FAILURE.value,
            "error": error,
            "error_kind": "lease_expired",
            "finished_at": now,
        }
        return self._settle_jobs(job_ids, now, job_values, JobStatus.FAILURE.value, error)

    def _settle_jobs(
        self,
        job_ids: Sequence[str],
        now: datetime,
        job_values: dict[str, Any],
        generation_status: str,
        error: str | None,
    ) -> int:
        changed = 0
        finished = generation_status != JobStatus.PENDING.value
        with self.db.transaction(write=True) as conn:
            for job_id in job_ids:
                result = conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, _expired(now))
                    .values(
                        worker=None,
                        claim_token=None,
                        lease_until=None,
                        attempts=jobs.c.attempts + 1,
                        updated_at=now,
                        **job_values,
                    )
                )
                if result.rowcount != 1:
                    continue  # renewed, finished or already settled meanwhile
                changed += 1
                conn.execute(
                    generations.update()
                    .where(generations.c.job_id == job_id, generations.c.status.in_(_UNFINISHED))
                    .values(
                        status=generation_status,
                        error=error,
                        finished_at=now if finished else None,
                    )
                )
        return changed

    def job_states(self, job_ids: Sequence[str]) -> dict[str, str]:
        """The status of each of these jobs that exists."""
        found: dict[str, str] = {}
        with self.db.transaction() as conn:
            for i in range(0, len(job_ids), 500):
                chunk = list(job_ids[i : i + 500])
                rows = conn.execute(sa.select(jobs.c.id, jobs.c.status).where(jobs.c.id.in_(chunk)))
                found.update({r[0]: r[1] for r in rows})
        return found

    def dangling(self, limit: int) -> list[ports.Dangling]:
        """Rows pointing at rows that do not exist, of every kind, up to limit in all."""
        ga, g = generation_assets, generations
        queries: list[tuple[str, sa.Select[Any], str]] = [
            (
                "output_link_without_asset",
                sa.select(ga.c.generation_id, ga.c.asset_id, ga.c.asset_id).where(
                    _missing(assets, ga.c.asset_id)
                ),
                "asset",
            ),
            (
                "output_link_without_generation",
                sa.select(ga.c.generation_id, ga.c.asset_id, ga.c.generation_id).where(
                    _missing(generations, ga.c.generation_id)
                ),
                "generation",
            ),
            (
                "generation_without_prompt",
                sa.select(g.c.id, g.c.prompt_id).where(_missing(prompts, g.c.prompt_id)),
                "prompt",
            ),
            (
                "portfolio_item_without_asset",
                sa.select(
                    portfolio_items.c.portfolio_id,
                    portfolio_items.c.asset_id,
                    portfolio_items.c.asset_id,
                ).where(_missing(assets, portfolio_items.c.asset_id)),
                "asset",
            ),
        ]
        found: list[ports.Dangling] = []
        with self.db.transaction() as conn:
            for kind, stmt, what in queries:
                for *keys, missing in conn.execute(stmt.limit(limit - len(found))):
                    found.append(ports.Dangling(kind, tuple(keys), f"{what} {missing}"))
                if len(found) >= limit:
                    return found
            job = sa.select(jobs.c.status).where(jobs.c.id == g.c.job_id).scalar_subquery()
            unfinished = (
                sa.select(g.c.id, g.c.job_id, job)
                .where(g.c.job_id.is_not(None), g.c.status.in_(_UNFINISHED))
                .where(sa.or_(job.is_(None), job.in_(_TERMINAL)))
                .limit(limit - len(found))
            )
            for row in conn.execute(unfinished):
                state = f"({row[2]})" if row[2] else "(gone)"
                found.append(
                    ports.Dangling(
                        "unfinished_generation_without_job", (row[0],), f"job {row[1]} {state}"
                    )
                )
        return found

    def repair_dangling(self, items: Sequence[ports.Dangling], now: datetime) -> int:
        """Remove dangling links and items, and generations without a prompt; settle the rest."""
        ga, g = generation_assets, generations
        changed = 0
        with self.db.transaction(write=True) as conn:
            for item in items:
                if item.kind == "output_link_without_asset":
                    gen_id, asset_id = item.keys
                    stmt: sa.Executable = ga.delete().where(
                        ga.c.generation_id == gen_id,
                        ga.c.asset_id == asset_id,
                        _missing(assets, ga.c.asset_id),
                    )
                elif item.kind == "output_link_without_generation":
                    gen_id, asset_id = item.keys
                    stmt = ga.delete().where(
                        ga.c.generation_id == gen_id,
                        ga.c.asset_id == asset_id,
                        _missing(generations, ga.c.generation_id),
                    )
                elif item.kind == "generation_without_prompt":
                    (gen_id,) = item.keys
                    orphan = sa.and_(g.c.id == gen_id, _missing(prompts, g.c.prompt_id))
                    conn.execute(
                        ga.delete().where(ga.c.generation_id == gen_id, sa.exists().where(orphan))
                    )
                    stmt = g.delete().where(orphan)
                elif item.kind == "portfolio_item_without_asset":
                    portfolio_id, asset_id = item.keys
                    stmt = portfolio_items.delete().where(
                        portfolio_items.c.portfolio_id == portfolio_id,
                        portfolio_items.c.asset_id == asset_id,
                        _missing(assets, portfolio_items.c.asset_id),
                    )
                elif item.kind == "unfinished_generation_without_job":
                    (gen_id,) = item.keys
                    job = sa.select(jobs.c.status).where(jobs.c.id == g.c.job_id).scalar_subquery()
                    stmt = (
                        g.update()
                        .where(g.c.id == gen_id, g.c.status.in_(_UNFINISHED))
                        .where(sa.or_(job.is_(None), job.in_(_TERMINAL)))
                        .values(
                            status=sa.case(
                                (job == JobStatus.CANCELLED.value, JobStatus.CANCELLED.value),
                                else_=JobStatus.FAILURE.value,
                            ),
                            error="its job ended without finishing it (repaired by doctor)",
                            finished_at=now,
                        )
                    )
                else:
                    raise ValueError(f"unknown inconsistency kind {item.kind!r}")
                changed += int(conn.execute(stmt).rowcount)
        return changed
