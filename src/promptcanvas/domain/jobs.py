"""Jobs: the durable record of every piece of background work, and the rules for retrying it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    """PENDING -> RUNNING -> SUCCESS | FAILURE | CANCELLED (RUNNING may go back to PENDING)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        """True once the job will never run again."""
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.CANCELLED})


@dataclass
class Job:
    """One unit of background work. The job table is the source of truth in every mode."""

    id: str
    owner_id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    run_after: datetime
    status: JobStatus = JobStatus.PENDING
    priority: int = 0
    attempts: int = 0
    max_attempts: int = 5
    target_index: int = 0  # which entry of the fallback chain is being tried
    target_attempts: int = 0  # attempts on that entry
    batch_id: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    error_kind: str | None = None
    worker: str | None = None
    claim_token: str | None = None
    lease_until: datetime | None = None
    progress: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    generation_ids: list[str] = field(default_factory=list)

    def ended(
        self,
        status: JobStatus,
        now: datetime,
        *,
        error: str | None = None,
        error_kind: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> Job:
        """This job in its final state, its last attempt counted (for kinds that settle alone)."""
        return replace(
            self,
            status=status,
            attempts=self.attempts + 1,
            result=result,
            error=error,
            error_kind=None if error is None else error_kind,
            progress=1.0 if status is JobStatus.SUCCESS else self.progress,
            finished_at=now,
            updated_at=now,
        )

    def retried(self, now: datetime, delay_seconds: float, error: str) -> Job:
        """PENDING again after a failed attempt (counted), due `delay_seconds` from now."""
        return replace(
            self,
            status=JobStatus.PENDING,
            attempts=self.attempts + 1,
            error=error,
            error_kind="unavailable",
            run_after=now + timedelta(seconds=delay_seconds),
            updated_at=now,
        )


@dataclass(frozen=True)
class Target:
    """Where a generation runs: provider + model + version."""

    provider: str
    model: str
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" + (f"@{self.version}" if self.version else "")

    def as_dict(self) -> dict[str, str | None]:
        """JSON form."""
        return {"provider": self.provider, "model": self.model, "model_version": self.version}

    @classmethod
    def parse(cls, spec: str) -> Target:
        """`provider:model@version` (version optional)."""
        provider, sep, rest = spec.partition(":")
        if not sep or not provider or not rest:
            raise ValueError(f"{spec!r} is not provider:model[@version]")
        model, _, version = rest.partition("@")
        if not model:
            raise ValueError(f"{spec!r} has no model")
        return cls(provider, model, version or None)


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt."""

    action: str  # "retry" | "fallback" | "fail"
    delay: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring Retry-After; some errors are never retried.

    `max_attempts` bounds the attempts on each target of a fallback chain. After the last
    attempt on a target (or at once for a non-retryable error) the next target is tried.
    """

    max_attempts: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    jitter: float = 0.25  # up to this fraction added at random, so retries do not line up

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the given (1-based) failed attempt."""
        rng = rng or random.Random()
        delay = min(self.max_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        return float(delay * (1 + self.jitter * rng.random()))

    def decide(
        self,
        *,
        retryable: bool,
        target_attempts: int,
        has_fallback: bool,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> Decision:
        """Retry this target, move to the next one, or give up."""
        rng = rng or random.Random()
        if retryable and target_attempts < self.max_attempts:
            delay = self.backoff(target_attempts, rng)
            if retry_after is not None:
                # The provider knows best; wait at least what it asked, jittered upwards.
                delay = max(retry_after * (1 + self.jitter * rng.random()), delay)
            return Decision("retry", delay)
        if has_fallback:
            return Decision("fallback")
        return Decision("fail")
