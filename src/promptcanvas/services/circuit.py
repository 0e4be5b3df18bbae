"""The job runner's side of the per-provider circuit breakers (rules: `domain.breaker`).

Before a provider call the runner asks `admit`; while the provider's breaker is open the job
is moved on here without an attempt counted: to its next fallback target at once, or, with
none left, back to PENDING until the breaker half-opens. A job waits so at most `max_wait`
seconds from the first time it was held back; when the breaker would keep it longer it fails
as `unavailable`. After the call the runner reports how it went (`outcome`).

Jobs held back carry `error_kind` "circuit_open" and a message saying so while they wait.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from promptcanvas.domain.breaker import Admission, BreakerState, Outcome
from promptcanvas.domain.jobs import Job, JobStatus
from promptcanvas.ports.breaker import CircuitBreaker
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.jobs import JobQueue
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.services.providers import ProviderEntry

log = logging.getLogger(__name__)

DEFERRED_SINCE = "breaker_deferred_since"  # payload key: when an open breaker first held it


class BreakerGate:
    """Admits provider calls through their breaker and reschedules the jobs it holds back."""

    def __init__(
        self,
        breaker: CircuitBreaker | None,
        uow: UowFactory,
        clock: Clock,
        queue: JobQueue | None,
        *,
        max_wait: float,
        probe_slack: float,
    ) -> None:
        self.breaker = breaker
        self.uow = uow
        self.clock = clock
        self.queue = queue
        self.max_wait = max_wait
        self.probe_slack = probe_slack  # a probe's lease: the provider's timeout plus this

    def circuit(self, provider: str) -> BreakerState:
        """The provider's breaker state (CLOSED without a breaker or when it is unreadable)."""
        if self.breaker is None:
            return BreakerState()
        try:
            return self.breaker.state(f"provider:{provider}", self.clock.now().timestamp())
        except Exception:
            log.exception("reading the circuit breaker of %s failed", provider)
            return BreakerState()

    def admit(
        self, job: Job, token: str, target: dict[str, Any], entry: ProviderEntry
    ) -> Admission | None:
        """The admission to call the provider, or None when the job was moved on instead."""
        if self.breaker is None:
            return Admission()
        now = self.clock.now()
        probe = entry.config.timeout_seconds + self.probe_slack
        try:
            admission = self.breaker.admit(f"provider:{entry.name}", now.timestamp(), probe)
        except Exception:  # a broken breaker must not stop the work: fail open
            log.exception("circuit breaker of %s failed; calling the provider", entry.name)
            return Admission()
        if admission.allowed:
            job.payload.pop(DEFERRED_SINCE, None)  # written back with the job's next state
            return admission
        self._defer(job, token, target, admission.wait, now)
        return None

    def outcome(self, entry: ProviderEntry, admission: Admission, outcome: Outcome) -> None:
        """Report how an admitted call went (NEUTRAL when it was not made after all)."""
        if self.breaker is None:
            return
        now = self.clock.now().timestamp()
        try:
            self.breaker.record(f"provider:{entry.name}", now, outcome, probe=admission.probe)
        except Exception:  # the job's own outcome matters more than the breaker's count
            log.exception("recording an outcome on the breaker of %s failed", entry.name)

    def _defer(
        self, job: Job, token: str, target: dict[str, Any], wait: float, now: datetime
    ) -> None:
        name = target["provider"]
        message = f"provider {name!r} is failing: its circuit breaker is open"
        payload = {k: v for k, v in job.payload.items() if k != DEFERRED_SINCE}
        since = _parse_time(job.payload.get(DEFERRED_SINCE)) or now
        later = replace(
            job,
            status=JobStatus.PENDING,
            payload=payload,
            error=message,
            error_kind="circuit_open",
            updated_at=now,
        )
        if job.target_index + 1 < len(job.payload["targets"]):
            action, wait = "fallback", 0.0
            later.target_index = job.target_index + 1
            later.target_attempts = 0
            later.run_after = now
        elif (now - since).total_seconds() + wait > self.max_wait:
            action = "fail"
            later.status = JobStatus.FAILURE
            later.finished_at = now
            later.error_kind = "unavailable"
            later.error = f"{message}; waiting for it would take over {self.max_wait:g} s"
        else:
            action = "wait"
            payload[DEFERRED_SINCE] = since.isoformat()
            later.run_after = now + timedelta(seconds=wait)
        with self.uow() as uow:
            if not uow.jobs.finish(later, token):
                return
            error = later.error if action == "fail" else None
            uow.jobs.set_generations(job.id, later.status, now, error)
            uow.commit()
        log.info("job %s held back by the open breaker of %s -> %s", job.id, name, action)
        if self.queue is not None and later.status is JobStatus.PENDING:
            self.queue.enqueue([job.id], delay=wait)


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
