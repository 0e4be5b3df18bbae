"""The job table and everything jobs write: attempts, batches, generation outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from promptcanvas.adapters.db import batch_queries
from promptcanvas.adapters.db.repositories import (
    attach_assets,
    generation_from_row,
)
from promptcanvas.adapters.db.tables import (
    batches,
    generation_assets,
    generations,
    job_attempts,
    jobs,
)
from promptcanvas.domain.assets import Generation
from promptcanvas.domain.errors import Conflict
from promptcanvas.domain.jobs import TERMINAL, Job, JobStatus
from promptcanvas.ports import jobs as ports

_JOB_FIELDS = tuple(f.name for f in fields(Job) if f.name not in ("generation_ids",))
_UNFINISHED = (JobStatus.PENDING.value, JobStatus.RUNNING.value)


def _job(row: sa.Row[Any]) -> Job:
    m = row._mapping
    values = {name: m[name] for name in _JOB_FIELDS}
    values["status"] = JobStatus(values["status"])
    job = Job(**values)
    job.generation_ids = list(job.payload.get("generation_ids", []))
    return job


def _job_row(job: Job) -> dict[str, Any]:
    row = {name: getattr(job, name) for name in _JOB_FIELDS}
    row["status"] = job.status.value
    row["updated_at"] = job.updated_at or job.created_at
    return row


def _runnable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(jobs.c.status == JobStatus.PENDING.value, jobs.c.run_after <= now),
        sa.and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.lease_until < now),
    )


def _seconds_between(
    conn: sa.Connection, start: sa.ColumnElement[Any], end: sa.ColumnElement[Any]
) -> sa.ColumnElement[float]:
    if conn.dialect.name == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    return sa.cast(sa.extract("epoch", end - start), sa.Float)


# Jobs the library runs for itself (embedding prompts for search): not in a user's job list.
HOUSEKEEPING_KINDS = ("embed",)


class SqlJobRepository(ports.JobRepository):
    """Jobs on SQLite or PostgreSQL."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add_many(self, new: Sequence[Job]) -> None:
        """Insert jobs with one executemany.

        If a racing request stored a job with the same owner and idempotency key first (after
        the caller looked for one), raise Conflict naming that job rather than a database error.
        """
        if not new:
            return
        rows = [_job_row(j) for j in new]
        if not any(j.idempotency_key for j in new):
            self.conn.execute(jobs.insert(), rows)
            return
        try:
            with self.conn.begin_nested():  # a savepoint: PostgreSQL can go on after the error
                self.conn.execute(jobs.insert(), rows)
        except sa.exc.IntegrityError:
            keyed = (
                self.by_idempotency_key(j.owner_id, j.idempotency_key)
                for j in new
                if j.idempotency_key
            )
            taken = next((j for j in keyed if j is not None), None)
            if taken is None:
                raise
            raise Conflict(
                "another request with this idempotency_key stored its job first",
                {"field": "idempotency_key", "job_id": taken.id},
            ) from None

    def get(self, owner_id: str | None, job_id: str) -> Job | None:
        """A job by id, optionally scoped to its owner."""
        stmt = sa.select(jobs).where(jobs.c.id == job_id)
        if owner_id is not None:
            stmt = stmt.where(jobs.c.owner_id == owner_id)
        row = self.conn.execute(stmt).first()
        return _job(row) if row else None

    def by_idempotency_key(self, owner_id: str, key: str) -> Job | None:
        """The owner's job with this key."""
        row = self.conn.execute(
            sa.select(jobs).where(jobs.c.owner_id == owner_id, jobs.c.idempotency_key == key)
        ).first()
        return _job(row) if row else None

    def claim(
        self,
        *,
        worker: str,
        token: str,
        now: datetime,
        lease_until: datetime,
        job_id: str | None = None,
    ) -> Job | None:
        """Take one runnable job atomically."""
        if job_id is None:
            pick = (
                sa.select(jobs.c.id)
                .where(_runnable(now))
                .order_by(jobs.c.priority.desc(), jobs.c.run_after, jobs.c.id)
                .limit(1)
            )
            if self.conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            found = self.conn.execute(pick).scalar()
            if found is None:
                return None
            job_id = found
        # The WHERE re-checks runnability, so a racing claimer's UPDATE matches no row.
        result = self.conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, _runnable(now))
            .values(
                status=JobStatus.RUNNING.value,
                worker=worker,
                claim_token=token,
                lease_until=lease_until,
                started_at=sa.func.coalesce(jobs.c.started_at, now),
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            return None
        return self.get(None, job_id)

    def heartbeat(
        self,
        job_id: str,
        token: str,
        lease_until: datetime,
        progress: float,
        now: datetime | None = None,
    ) -> bool:
        """Extend a held lease."""
        values: dict[str, Any] = {"lease_until": lease_until, "progress": progress}
        if now is not None:
            values["updated_at"] = now  # so the live jobs stream sees progress
        result = self.conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.claim_token == token)
            .where(jobs.c.status == JobStatus.RUNNING.value)
            .values(**values)
        )
        return result.rowcount == 1

    def finish(self, job: Job, token: str) -> bool:
        """Write the job's new state if the claim still holds."""
        values = {
            name: getattr(job, name)
            for name in (
                "result",
                "error",
                "error_kind",
                "attempts",
                "target_index",
                "target_attempts",
                "run_after",
                "progress",
                "finished_at",
                "payload",
            )
        }
        values["status"] = job.status.value
        values["updated_at"] = job.updated_at
        if job.status is JobStatus.PENDING:
            values.update(worker=None, claim_token=None, lease_until=None)
        result = self.conn.execute(
            jobs.update()
            .where(jobs.c.id == job.id, jobs.c.claim_token == token)
            .where(jobs.c.status == JobStatus.RUNNING.value)
            .values(**values)
        )
        return result.rowcount == 1

    def record_attempt(self, attempt: ports.Attempt) -> None:
        """Log one provider call."""
        self.conn.execute(
            job_attempts.insert().values(
                **{f.name: getattr(attempt, f.name) for f in fields(ports.Attempt)}
            )
        )

    def attempts(self, job_id: str) -> list[ports.Attempt]:
        """A job's provider calls."""
        rows = self.conn.execute(
            sa.select(job_attempts)
            .where(job_attempts.c.job_id == job_id)
            .order_by(job_attempts.c.attempt)
        )
        return [ports.Attempt(**dict(r._mapping)) for r in rows]

    def cancel(self, job_id: str, now: datetime) -> bool:
        """Cancel an unfinished job."""
        result = self.conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.status.in_(_UNFINISHED))
            .values(
                status=JobStatus.CANCELLED.value,
                finished_at=now,
                updated_at=now,
                claim_token=None,
                lease_until=None,
                error="cancelled",
                error_kind="cancelled",
            )
        )
        return result.rowcount == 1

    def requeue(self, job_id: str, now: datetime) -> bool:
        """Run a failed or cancelled job again from the start of its chain."""
        result = self.conn.execute(
            jobs.update()
            .where(
                jobs.c.id == job_id,
                jobs.c.status.in_((JobStatus.FAILURE.value, JobStatus.CANCELLED.value)),
            )
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
        )
        return result.rowcount == 1

    def find(
        self,
        owner_id: str,
        *,
        status: JobStatus | None = None,
        batch_id: str | None = None,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """The owner's jobs, newest first (housekeeping kinds such as embedding left out)."""
        stmt = sa.select(jobs).where(jobs.c.owner_id == owner_id)
        stmt = stmt.where(jobs.c.kind.not_in(HOUSEKEEPING_KINDS))
        if status is not None:
            stmt = stmt.where(jobs.c.status == status.value)
        if batch_id is not None:
            stmt = stmt.where(jobs.c.batch_id == batch_id)
        if before is not None:
            stmt = stmt.where(sa.tuple_(jobs.c.created_at, jobs.c.id) < sa.tuple_(*before))
        stmt = stmt.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        return [_job(r) for r in self.conn.execute(stmt)]

    def updated_since(self, owner_id: str, after: tuple[datetime, str], limit: int) -> list[Job]:
        """The owner's jobs changed after a (updated_at, id) mark, oldest change first."""
        stmt = (
            sa.select(jobs)
            .where(jobs.c.owner_id == owner_id, jobs.c.kind.not_in(HOUSEKEEPING_KINDS))
            # The plain range lets both engines walk ix_jobs_owner_updated; the tuple refines it.
            .where(jobs.c.updated_at >= after[0])
            .where(sa.tuple_(jobs.c.updated_at, jobs.c.id) > sa.tuple_(*after))
            .order_by(jobs.c.updated_at, jobs.c.id)
            .limit(limit)
        )
        return [_job(r) for r in self.conn.execute(stmt)]

    def counts(
        self, *, owner_id: str | None = None, batch_id: str | None = None
    ) -> dict[JobStatus, int]:
        """Jobs per state."""
        stmt = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
        if owner_id is not None:
            stmt = stmt.where(jobs.c.owner_id == owner_id)
        if batch_id is not None:
            stmt = stmt.where(jobs.c.batch_id == batch_id)
        found = {JobStatus(s): n for s, n in self.conn.execute(stmt)}
        return {s: found.get(s, 0) for s in JobStatus}

    def running(self) -> list[tuple[str, str]]:
        """(id, worker) of RUNNING jobs."""
        rows = self.conn.execute(
            sa.select(jobs.c.id, jobs.c.worker).where(jobs.c.status == JobStatus.RUNNING.value)
        )
        return [(r[0], r[1] or "") for r in rows]

    def release(self, job_ids: Sequence[str], now: datetime) -> int:
        """RUNNING -> PENDING for jobs of dead workers."""
        if not job_ids:
            return 0
        result = self.conn.execute(
            jobs.update()
            .where(jobs.c.id.in_(list(job_ids)), jobs.c.status == JobStatus.RUNNING.value)
            .values(
                status=JobStatus.PENDING.value,
                worker=None,
                claim_token=None,
                lease_until=None,
                run_after=now,
                updated_at=now,
            )
        )
        return int(result.rowcount)

    def runnable_count(self, now: datetime) -> int:
        """Due PENDING jobs plus RUNNING jobs whose lease expired."""
        return int(
            self.conn.execute(
                sa.select(sa.func.count()).where(
                    sa.or_(
                        sa.and_(jobs.c.status == JobStatus.PENDING.value, jobs.c.run_after <= now),
                        sa.and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.lease_until < now),
                    )
                )
            ).scalar_one()
        )

    def stale(self, now: datetime, *, older_than: datetime, limit: int) -> list[str]:
        """Runnable jobs that have waited since before `older_than`."""
        rows = self.conn.execute(
            sa.select(jobs.c.id)
            .where(
                sa.or_(
                    sa.and_(
                        jobs.c.status == JobStatus.PENDING.value,
                        jobs.c.run_after <= older_than,
                    ),
                    sa.and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.lease_until < now),
                )
            )
            .order_by(jobs.c.priority.desc(), jobs.c.run_after)
            .limit(limit)
        )
        return [r[0] for r in rows]

    def set_generations(
        self, job_id: str, status: JobStatus, now: datetime, error: str | None = None
    ) -> None:
        """Mark the job's unfinished generations."""
        values: dict[str, Any] = {"status": status.value}
        if status in TERMINAL:
            values.update(finished_at=now, error=error)
        self.conn.execute(
            generations.update()
            .where(generations.c.job_id == job_id)
            .where(generations.c.status.in_(_UNFINISHED))
            .values(**values)
        )

    def reset_generations(self, job_id: str) -> None:
        """Failed or cancelled generations of a retried job go back to PENDING."""
        self.conn.execute(
            generations.update()
            .where(generations.c.job_id == job_id)
            .where(generations.c.status != JobStatus.SUCCESS.value)
            .values(status=JobStatus.PENDING.value, error=None, finished_at=None)
        )

    def complete_generation(self, generation: Generation) -> None:
        """Record a generation's success and its assets, once."""
        g = generation
        result = self.conn.execute(
            generations.update()
            .where(generations.c.id == g.id, generations.c.status.in_(_UNFINISHED))
            .values(
                status=JobStatus.SUCCESS.value,
                provider=g.provider,
                model=g.model,
                model_version=g.model_version,
                parameters=g.parameters,
                seed=g.seed,
                cost=g.cost,
                latency_ms=g.latency_ms,
                cache_key=g.cache_key,
                cached_from=g.cached_from,
                fallback_from=g.fallback_from,
                revised_prompt=g.revised_prompt,
                usage=g.usage,
                error=None,
                finished_at=g.finished_at,
            )
        )
        if result.rowcount == 1 and g.asset_ids:
            self.conn.execute(
                generation_assets.insert(),
                [
                    {"generation_id": g.id, "asset_id": a, "position": i}
                    for i, a in enumerate(g.asset_ids)
                ],
            )

    def get_generation(self, owner_id: str, generation_id: str) -> Generation | None:
        """The owner's generation."""
        row = self.conn.execute(
            sa.select(generations).where(
                generations.c.id == generation_id, generations.c.owner_id == owner_id
            )
        ).first()
        return attach_assets(self.conn, [generation_from_row(row)])[0] if row else None

    def generations_for_job(self, job_id: str) -> list[Generation]:
        """A job's generations."""
        rows = self.conn.execute(
            sa.select(generations).where(generations.c.job_id == job_id).order_by(generations.c.id)
        )
        return attach_assets(self.conn, [generation_from_row(r) for r in rows])

    def cached_generation(self, owner_id: str, cache_key: str) -> Generation | None:
        """An earlier successful generation with this key."""
        has_assets = sa.exists().where(generation_assets.c.generation_id == generations.c.id)
        row = self.conn.execute(
            sa.select(generations)
            .where(
                generations.c.owner_id == owner_id,
                generations.c.cache_key == cache_key,
                generations.c.status == JobStatus.SUCCESS.value,
                has_assets,
            )
            .order_by(generations.c.created_at)
            .limit(1)
        ).first()
        return attach_assets(self.conn, [generation_from_row(row)])[0] if row else None

    def stats(self, now: datetime) -> ports.QueueStats:
        """Aggregates for /metrics in four grouped queries."""
        query = sa.select(jobs.c.kind, jobs.c.status, sa.func.count()).group_by(
            jobs.c.kind, jobs.c.status
        )
        by_status = {(k, s): int(n) for k, s, n in self.conn.execute(query)}
        depth = self.conn.execute(
            sa.select(sa.func.count()).where(
                jobs.c.status == JobStatus.PENDING.value, jobs.c.run_after <= now
            )
        ).scalar_one()
        seconds = _seconds_between(self.conn, job_attempts.c.started_at, job_attempts.c.finished_at)
        bucket_columns = [
            sa.func.sum(sa.case((seconds <= b, 1), else_=0)).label(f"b{i}")
            for i, b in enumerate(ports.DURATION_BUCKETS)
        ]
        attempt_rows = self.conn.execute(
            sa.select(
                job_attempts.c.provider,
                job_attempts.c.outcome,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(seconds), 0.0),
                *bucket_columns,
            ).group_by(job_attempts.c.provider, job_attempts.c.outcome)
        )
        attempts = {
            (r[0], r[1]): (int(r[2]), float(r[3]), tuple(int(x or 0) for x in r[4:]))
            for r in attempt_rows
        }
        cost_rows = self.conn.execute(
            sa.select(
                generations.c.provider,
                sa.func.coalesce(generations.c.model, ""),
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(generations.c.cost), 0.0),
            )
            .where(generations.c.status == JobStatus.SUCCESS.value)
            .group_by(generations.c.provider, generations.c.model)
        )
        cost = {(r[0], r[1]): (int(r[2]), float(r[3])) for r in cost_rows}
        return ports.QueueStats(by_status, int(depth), attempts, cost)

    def add_batch(self, batch: ports.Batch) -> None:
        """Insert a batch."""
        self.conn.execute(
            batches.insert().values(**{f.name: getattr(batch, f.name) for f in fields(batch)})
        )

    def get_batch(self, owner_id: str, batch_id: str) -> ports.Batch | None:
        """The owner's batch."""
        row = self.conn.execute(
            sa.select(batches).where(batches.c.id == batch_id, batches.c.owner_id == owner_id)
        ).first()
        return ports.Batch(**dict(row._mapping)) if row else None

    def cancel_batch(self, owner_id: str, batch_id: str, now: datetime) -> int:
        """Cancel the batch's unfinished jobs and their generations."""
        self.conn.execute(
            batches.update()
            .where(batches.c.id == batch_id, batches.c.owner_id == owner_id)
            .values(cancelled_at=now)
        )
        # Two set-based statements: a 10,000-job batch cancels without a statement per job.
        cancelled = self.conn.execute(
            jobs.update()
            .where(
                jobs.c.batch_id == batch_id,
                jobs.c.owner_id == owner_id,
                jobs.c.status.in_(_UNFINISHED),
            )
            .values(
                status=JobStatus.CANCELLED.value,
                finished_at=now,
                updated_at=now,
                claim_token=None,
                lease_until=None,
                error="cancelled",
                error_kind="cancelled",
            )
        ).rowcount
        self.conn.execute(
            generations.update()
            .where(
                generations.c.batch_id == batch_id,
                generations.c.owner_id == owner_id,
                generations.c.status.in_(_UNFINISHED),
            )
            .values(status=JobStatus.CANCELLED.value, finished_at=now, error="cancelled")
        )
        return int(cancelled)

    def batch_generations(self, batch_id: str) -> list[Generation]:
        """The batch's generations."""
        rows = self.conn.execute(
            sa.select(generations)
            .where(generations.c.batch_id == batch_id)
            .order_by(generations.c.id)
        )
        return attach_assets(self.conn, [generation_from_row(r) for r in rows])

    # -- batch re-runs and comparisons (queries in batch_queries.py) -------------------------

    def rerun_sources(
        self, owner_id: str, prompt_ids: Sequence[str], *, latest: bool = True
    ) -> dict[str, ports.RerunSource]:
        """The owner's prompts among these ids, with their newest successful generation."""
        return batch_queries.rerun_sources(self.conn, owner_id, prompt_ids, latest=latest)

    def generations_by_ids(self, owner_id: str, ids: Sequence[str]) -> dict[str, Generation]:
        """The owner's generations among these ids, with asset ids."""
        return batch_queries.generations_by_ids(self.conn, owner_id, ids)

    def batch_started(self, batch_id: str) -> datetime | None:
        """When the batch's first job was first claimed."""
        return batch_queries.batch_started(self.conn, batch_id)

    def requeue_batch(self, owner_id: str, batch_id: str, now: datetime) -> list[str]:
        """The batch's failed and cancelled jobs back to PENDING, in a few statements."""
        return batch_queries.requeue_batch(self.conn, owner_id, batch_id, now)
