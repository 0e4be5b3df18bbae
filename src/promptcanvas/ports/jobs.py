"""Job ports: the durable job table, the delivery of work to workers, shared rate limits.

The job table (`JobRepository`, reached through a unit of work) is the source of truth in every
mode. A `JobQueue` only *delivers*: it tells some worker that a job is ready. Delivery may be
lost or duplicated; claims are atomic, so a duplicate delivery runs nothing twice, and workers
recover lost deliveries from the table (expired leases, due PENDING jobs).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from promptcanvas.domain.assets import Generation
from promptcanvas.domain.jobs import Job, JobStatus


@dataclass(frozen=True)
class Batch:
    """A re-run of many prompts on one target."""

    id: str
    owner_id: str
    provider: str
    model: str
    model_version: str | None
    params_override: dict[str, Any]
    seeds: str
    query: dict[str, Any] | None
    total: int
    created_at: datetime
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class RerunSource:
    """A prompt a batch may re-run, with what its newest successful generation used."""

    prompt_id: str
    text: str
    negative_text: str
    trashed: bool
    source_id: str | None = None  # the newest SUCCESS generation, if any (and asked for)
    seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attempt:
    """One call to a provider on behalf of a job."""

    job_id: str
    attempt: int
    provider: str
    model: str
    worker: str | None
    started_at: datetime
    finished_at: datetime
    outcome: str  # "success" or an error kind
    message: str | None = None


DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True)
class QueueStats:
    """Deployment-wide figures for /metrics, read from the tables (every worker's work)."""

    jobs_by_status: dict[tuple[str, str], int]  # (kind, status) -> jobs
    queue_depth: int
    # (provider, outcome) -> (count, sum of seconds, cumulative counts per DURATION_BUCKETS)
    attempts: dict[tuple[str, str], tuple[int, float, tuple[int, ...]]]
    # (provider, model) -> (successful generations, dollars)
    cost: dict[tuple[str, str], tuple[int, float]]


class JobRepository(abc.ABC):
    """Jobs, their attempts, batches, and the generations jobs fill in."""

    @abc.abstractmethod
    def add_many(self, jobs: Sequence[Job]) -> None:
        """Insert new jobs."""

    @abc.abstractmethod
    def get(self, owner_id: str | None, job_id: str) -> Job | None:
        """A job (the owner's, or anyone's when owner_id is None for workers)."""

    @abc.abstractmethod
    def by_idempotency_key(self, owner_id: str, key: str) -> Job | None:
        """The owner's job submitted with this key."""

    @abc.abstractmethod
    def claim(
        self,
        *,
        worker: str,
        token: str,
        now: datetime,
        lease_until: datetime,
        job_id: str | None = None,
    ) -> Job | None:
        """Atomically take one runnable job (or the given one) and mark it RUNNING.

        Runnable: PENDING and due, or RUNNING with an expired lease. Two claimers never get the
        same job. The returned job carries the new `claim_token`; every later write checks it.
        """

    @abc.abstractmethod
    def heartbeat(
        self,
        job_id: str,
        token: str,
        lease_until: datetime,
        progress: float,
        now: datetime | None = None,
    ) -> bool:
        """Extend the lease, record progress (at `now`, if given); False if the claim was lost."""

    @abc.abstractmethod
    def finish(self, job: Job, token: str) -> bool:
        """Write a terminal state or a reschedule (status, result/error, counters, run_after).

        Only while the caller still holds the claim; False (and nothing written) otherwise.
        """

    @abc.abstractmethod
    def record_attempt(self, attempt: Attempt) -> None:
        """Log one provider call."""

    @abc.abstractmethod
    def attempts(self, job_id: str) -> list[Attempt]:
        """A job's provider calls in order."""

    @abc.abstractmethod
    def cancel(self, job_id: str, now: datetime) -> bool:
        """PENDING or RUNNING -> CANCELLED; False if already terminal."""

    @abc.abstractmethod
    def requeue(self, job_id: str, now: datetime) -> bool:
        """FAILURE or CANCELLED -> PENDING with fresh attempt counters."""

    @abc.abstractmethod
    def find(
        self,
        owner_id: str,
        *,
        status: JobStatus | None = None,
        batch_id: str | None = None,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """The owner's jobs, newest first, keyset-paged by (created_at, id)."""

    @abc.abstractmethod
    def updated_since(self, owner_id: str, after: tuple[datetime, str], limit: int) -> list[Job]:
        """The owner's jobs whose (updated_at, id) comes after `after`, in that order.

        Housekeeping kinds are left out, as in `find`. The live jobs stream reads this each tick.
        """

    @abc.abstractmethod
    def counts(
        self, *, owner_id: str | None = None, batch_id: str | None = None
    ) -> dict[JobStatus, int]:
        """How many jobs are in each state."""

    @abc.abstractmethod
    def running(self) -> list[tuple[str, str]]:
        """(job id, worker) of every RUNNING job."""

    @abc.abstractmethod
    def release(self, job_ids: Sequence[str], now: datetime) -> int:
        """Put RUNNING jobs whose worker is known dead back to PENDING at once."""

    @abc.abstractmethod
    def runnable_count(self, now: datetime) -> int:
        """How many jobs could be claimed now: due PENDING, or RUNNING with an expired lease."""

    @abc.abstractmethod
    def stale(self, now: datetime, *, older_than: datetime, limit: int) -> list[str]:
        """Ids of runnable jobs nobody has claimed: due before `older_than`, or lease expired."""

    @abc.abstractmethod
    def set_generations(
        self, job_id: str, status: JobStatus, now: datetime, error: str | None = None
    ) -> None:
        """Mark a job's unfinished generations with a state."""

    @abc.abstractmethod
    def reset_generations(self, job_id: str) -> None:
        """Make a retried job's failed or cancelled generations PENDING again."""

    @abc.abstractmethod
    def complete_generation(self, generation: Generation) -> None:
        """Store a generation's outcome and link its assets (once; repeats change nothing)."""

    @abc.abstractmethod
    def get_generation(self, owner_id: str, generation_id: str) -> Generation | None:
        """The owner's generation with its asset ids."""

    @abc.abstractmethod
    def generations_for_job(self, job_id: str) -> list[Generation]:
        """A job's generations in submission order."""

    @abc.abstractmethod
    def cached_generation(self, owner_id: str, cache_key: str) -> Generation | None:
        """A successful generation of the owner with this cache key and stored assets."""

    @abc.abstractmethod
    def stats(self, now: datetime) -> QueueStats:
        """Aggregates over all owners for monitoring."""

    @abc.abstractmethod
    def add_batch(self, batch: Batch) -> None:
        """Insert a batch."""

    @abc.abstractmethod
    def get_batch(self, owner_id: str, batch_id: str) -> Batch | None:
        """The owner's batch."""

    @abc.abstractmethod
    def cancel_batch(self, owner_id: str, batch_id: str, now: datetime) -> int:
        """Cancel every unfinished job of the batch; returns how many."""

    @abc.abstractmethod
    def batch_generations(self, batch_id: str) -> list[Generation]:
        """The generations a batch made, with asset ids."""

    # -- batch re-runs and comparisons: reads over many prompts in a few chunked queries ----

    @abc.abstractmethod
    def rerun_sources(
        self, owner_id: str, prompt_ids: Sequence[str], *, latest: bool = True
    ) -> dict[str, RerunSource]:
        """The owner's prompts among these ids (trashed ones flagged), by id.

        With `latest`, each carries the id, seed and parameters of its newest SUCCESS
        generation on any provider. The cost is a few queries per thousand ids, never one
        per prompt.
        """

    @abc.abstractmethod
    def generations_by_ids(self, owner_id: str, ids: Sequence[str]) -> dict[str, Generation]:
        """The owner's generations among these ids, with asset ids, by id."""

    @abc.abstractmethod
    def batch_started(self, batch_id: str) -> datetime | None:
        """When a worker first claimed a job of the batch (None before that)."""

    @abc.abstractmethod
    def requeue_batch(self, owner_id: str, batch_id: str, now: datetime) -> list[str]:
        """`requeue` plus `reset_generations` for every FAILURE or CANCELLED job of the batch.

        Returns the ids of the jobs now PENDING. A few statements per thousand jobs, so a
        10,000-job batch is retried without holding the database for seconds.
        """


class JobQueue(abc.ABC):
    """Delivers ready jobs to workers. Narrow on purpose: the table holds all state.

    `enqueue` is called after the jobs are committed. It must not block for long and may
    deliver late, twice or (on a crash) never: workers recover from the table either way.
    """

    @abc.abstractmethod
    def enqueue(self, job_ids: Sequence[str], *, delay: float = 0.0) -> None:
        """Tell workers these jobs are ready (after `delay` seconds)."""


class NullQueue(JobQueue):
    """Delivers nothing: workers find jobs by polling the table. The test double."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def enqueue(self, job_ids: Sequence[str], *, delay: float = 0.0) -> None:  # noqa: ARG002
        """Remember what was sent."""
        self.sent.extend(job_ids)


@dataclass(frozen=True)
class Permit:
    """A held concurrency slot; give it back with `Throttle.release`."""

    key: str
    token: str


# A request is counted when it is granted but reaches the provider a little later, and the
# provider counts arrivals: counting each request for a second longer than a minute keeps the
# provider's own minute within the limit despite that delay.
RATE_WINDOW_SECONDS = 61.0


class Throttle(abc.ABC):
    """Per-provider limits shared by every worker of the deployment.

    `acquire` either returns a Permit (a concurrency slot is held and one request is counted)
    or the seconds to wait before asking again. At most `per_minute` requests are granted in
    any RATE_WINDOW_SECONDS. A slot expires `ttl` seconds after it was taken or last renewed,
    so a crashed worker's slots lapse soon: a live holder renews its slot (`renew`) for as
    long as its request runs, then releases it.
    """

    @abc.abstractmethod
    def acquire(
        self, key: str, *, concurrency: int, per_minute: int | None, ttl: float
    ) -> Permit | float:
        """Take a slot now, or say how long to wait."""

    @abc.abstractmethod
    def renew(self, permit: Permit, ttl: float) -> bool:
        """Keep a held slot for `ttl` seconds from now; False if it was already taken back."""

    @abc.abstractmethod
    def release(self, permit: Permit) -> None:
        """Give a slot back."""
