"""Consistency port: the database-wide questions `promptcanvas doctor` asks, and its repairs."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ExpiredLease:
    """A job still marked RUNNING whose worker stopped renewing its lease."""

    job_id: str
    worker: str
    attempts: int
    max_attempts: int
    lease_until: datetime | None


@dataclass(frozen=True, slots=True)
class Dangling:
    """A row that names a row which does not exist (or a state its job contradicts).

    `kind` is one of DANGLING_KINDS; `keys` is the row's primary key (generation id; generation
    and asset ids of a link; portfolio and asset ids of an item); `missing` says what it
    points at ("asset ID", "job ID (SUCCESS)").
    """

    kind: str
    keys: tuple[str, ...]
    missing: str


DANGLING_KINDS = (
    "output_link_without_asset",  # generation_assets -> a missing asset
    "output_link_without_generation",  # generation_assets -> a missing generation
    "generation_without_prompt",  # generations -> a missing prompt
    "portfolio_item_without_asset",  # portfolio_items -> a missing asset
    "unfinished_generation_without_job",  # PENDING/RUNNING generation, its job gone or done
)


class ConsistencyChecks(abc.ABC):
    """Whole-database checks that no single repository owns.

    Contract:
    - The finders only read, page internally and return at most `limit` items.
    - Every repair re-checks its condition in the same statement (a job renewed or finished
      meanwhile, a row re-created meanwhile is left alone) and returns how many rows changed;
      repairing an item twice changes nothing the second time.
    - `requeue_jobs` puts RUNNING jobs whose lease expired back to PENDING, counting the
      interrupted run as an attempt; `fail_jobs` marks them FAILURE with `error`. Both set
      the jobs' unfinished generations to match.
    - `repair_dangling` removes dangling links, portfolio items and generations without a
      prompt, and fails unfinished generations whose job is gone or finished.
    """

    @abc.abstractmethod
    def expired_leases(self, now: datetime, limit: int) -> list[ExpiredLease]:
        """RUNNING jobs whose lease ended before now."""

    @abc.abstractmethod
    def requeue_jobs(self, job_ids: Sequence[str], now: datetime) -> int:
        """Expired RUNNING -> PENDING (attempts + 1)."""

    @abc.abstractmethod
    def fail_jobs(self, job_ids: Sequence[str], now: datetime, error: str) -> int:
        """Expired RUNNING -> FAILURE."""

    @abc.abstractmethod
    def job_states(self, job_ids: Sequence[str]) -> dict[str, str]:
        """The status of each of these jobs that exists."""

    @abc.abstractmethod
    def dangling(self, limit: int) -> list[Dangling]:
        """Rows pointing at rows that do not exist."""

    @abc.abstractmethod
    def repair_dangling(self, items: Sequence[Dangling], now: datetime) -> int:
        """Remove or settle these rows (see the contract)."""
