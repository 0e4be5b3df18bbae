"""Batch re-runs: many prompts on another provider/model/version, its progress, before/after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from promptcanvas.domain.assets import Generation
from promptcanvas.domain.errors import Conflict, InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id, new_id
from promptcanvas.domain.jobs import Job, JobStatus, Target
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.jobs import Batch, JobQueue, RerunSource
from promptcanvas.ports.repositories import UnitOfWork, UowFactory
from promptcanvas.services.assets import AssetService
from promptcanvas.services.batch_plan import Planner
from promptcanvas.services.batch_views import MAX_PAIRS, Pair, compare_batch, owned_batch
from promptcanvas.services.generate import GenerationService
from promptcanvas.services.library import MAX_PAGE, Library, SearchRequest

MAX_BATCH = MAX_PAIRS  # prompts per batch
MAX_NAMED = 50  # bad ids named in an error message's details
BATCH_PRIORITY = -10  # a 10,000-prompt batch must not hold up someone's single generation
SEEDS = ("same", "new")


@dataclass(frozen=True)
class BatchRequest:
    """What a caller may ask for; validated by `BatchService.create`."""

    target: Target
    prompt_ids: tuple[str, ...] | None = None
    query: SearchRequest | None = None
    params_override: dict[str, Any] = field(default_factory=dict)
    seeds: str = "same"


@dataclass(frozen=True)
class BatchCounts:
    """Jobs of a batch per state."""

    pending: int
    running: int
    done: int
    failed: int
    cancelled: int

    @property
    def finished(self) -> int:
        """Jobs that will not run again."""
        return self.done + self.failed + self.cancelled


@dataclass(frozen=True)
class BatchStatus:
    """A batch with its progress."""

    batch: Batch
    status: str  # PENDING | RUNNING | SUCCESS | FAILURE | CANCELLED
    counts: BatchCounts
    progress: float
    eta_seconds: float | None
    started_at: datetime | None


def _named(ids: list[str]) -> str:
    shown = ", ".join(ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _query_record(q: SearchRequest) -> dict[str, Any]:
    """The selection filters as stored on the batch (JSON)."""
    record = {
        "q": q.q,
        "tags": list(q.tags),
        "category": q.category,
        "project_id": q.project_id,
        "model": q.model,
        "starred": q.starred,
        "since": q.since.isoformat() if q.since else None,
        "until": q.until.isoformat() if q.until else None,
    }
    return {k: v for k, v in record.items() if v not in (None, [])}


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cycle collector while a batch's ~100k small objects are built and inserted.

    They hold no reference cycles; collecting over them again and again took ~20% of queueing
    a 10,000-prompt batch. Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def batch_state(counts: BatchCounts) -> str:
    """PENDING until a job starts, RUNNING while any is unfinished, then how it ended."""
    if counts.pending or counts.running:
        return "RUNNING" if counts.running or counts.finished else "PENDING"
    if counts.cancelled:
        return "CANCELLED"
    return "FAILURE" if counts.failed else "SUCCESS"


class BatchService:
    """Create, follow, cancel, retry and compare batch re-runs."""

    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        *,
        library: Library,
        generations: GenerationService,
        assets: AssetService,
        queue: JobQueue,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.library = library
        self.generations = generations
        self.assets = assets
        self.queue = queue

    # -- creating -------------------------------------------------------------------------

    def create(self, owner_id: str, req: BatchRequest) -> Batch:
        """Validate everything, then queue one job per prompt in one transaction."""
        if req.seeds not in SEEDS:
            raise InvalidInput('seeds must be "same" or "new"', {"field": "seeds"})
        if (req.prompt_ids is None) == (req.query is None):
            raise InvalidInput("give exactly one of prompt_ids and query", {"field": "prompt_ids"})
        planner = Planner(self.generations.registry, req.target, req.params_override, req.seeds)
        if req.prompt_ids is not None:
            ids = self._explicit(req.prompt_ids)
        else:
            assert req.query is not None
            ids = self._matching(owner_id, req.query)
        now = self.clock.now()
        batch_id = new_id()
        with _no_cyclic_gc(), self.uow() as uow:
            sources = self._sources(uow, owner_id, ids)
            too_long = [s.prompt_id for s in sources if planner.too_long(s.text)]
            if too_long:
                raise InvalidInput(
                    f"{len(too_long)} prompt(s) are longer than {planner.model!r} accepts: "
                    f"{_named(too_long)}",
                    {"field": "prompt_ids", "prompt_ids": too_long[:MAX_NAMED]},
                )
            jobs: list[Job] = []
            gens: list[Generation] = []
            for source in sources:
                job, made = self.generations.make_job(
                    owner_id,
                    source.prompt_id,
                    source.text,
                    [planner.target_for(source)],
                    now,
                    batch_id=batch_id,
                    source_generation_id=source.source_id,
                )
                job.priority = BATCH_PRIORITY
                jobs.append(job)
                gens.extend(made)
            batch = Batch(
                id=batch_id,
                owner_id=owner_id,
                provider=planner.provider,
                model=planner.model,
                model_version=planner.version,
                params_override=dict(req.params_override),
                seeds=req.seeds,
                query=_query_record(req.query) if req.query is not None else None,
                total=len(jobs),
                created_at=now,
            )
            uow.jobs.add_batch(batch)
            uow.jobs.add_many(jobs)
            uow.assets.add_generations(gens)
            uow.commit()
        self.queue.enqueue([j.id for j in jobs])
        return batch

    @staticmethod
    def _explicit(prompt_ids: tuple[str, ...]) -> list[str]:
        ids = list(dict.fromkeys(prompt_ids))
        if not ids:
            raise InvalidInput("prompt_ids is empty", {"field": "prompt_ids"})
        if len(ids) > MAX_BATCH:
            raise InvalidInput(
                f"a batch holds at most {MAX_BATCH:,} prompts ({len(ids):,} given)",
                {"field": "prompt_ids", "limit": MAX_BATCH},
            )
        return ids

    def _matching(self, owner_id: str, query: SearchRequest) -> list[str]:
        """Every live prompt the search filters match (newest first), up to MAX_BATCH."""
        ids: list[str] = []
        # Newest-first paging sees every match; relevance ranks only the newest few thousand.
        page_request = replace(query, sort="newest", limit=MAX_PAGE, cursor=None, trashed=False)
        while True:
            page = self.library.search(owner_id, page_request)
            ids.extend(p.id for p in page.items)
            if len(ids) > MAX_BATCH:
                raise InvalidInput(
                    f"the query matches more than {MAX_BATCH:,} prompts; narrow it down",
                    {"field": "query", "limit": MAX_BATCH},
                )
            if page.next_cursor is None:
                break
            page_request = replace(page_request, cursor=page.next_cursor)
        if not ids:
            raise InvalidInput("no prompt matches the query", {"field": "query"})
        return ids

    @staticmethod
    def _sources(uow: UnitOfWork, owner_id: str, ids: list[str]) -> list[RerunSource]:
        """The prompts in the order asked; 404 naming unknown ones, 409 naming trashed ones."""
        valid = [i for i in ids if is_valid_id(i)]
        found = uow.jobs.rerun_sources(owner_id, valid)
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(
                f"{len(missing)} prompt(s) not found: {_named(missing)}",
                {"field": "prompt_ids", "prompt_ids": missing[:MAX_NAMED]},
            )
        trashed = [i for i in ids if found[i].trashed]
        if trashed:
            raise Conflict(
                f"{len(trashed)} prompt(s) are in the trash: {_named(trashed)}; restore them first",
                {"field": "prompt_ids", "prompt_ids": trashed[:MAX_NAMED]},
            )
        return [found[i] for i in ids]

    # -- following ------------------------------------------------------------------------

    def status(self, owner_id: str, batch_id: str) -> BatchStatus:
        """Counts per state, progress, and an ETA from the throughput so far."""
        with self.uow(write=False) as uow:
            batch = owned_batch(uow, owner_id, batch_id)
            by_state = uow.jobs.counts(owner_id=owner_id, batch_id=batch.id)
            started = uow.jobs.batch_started(batch.id)
        counts = BatchCounts(
            pending=by_state[JobStatus.PENDING],
            running=by_state[JobStatus.RUNNING],
            done=by_state[JobStatus.SUCCESS],
            failed=by_state[JobStatus.FAILURE],
            cancelled=by_state[JobStatus.CANCELLED],
        )
        total = max(batch.total, 1)
        remaining = counts.pending + counts.running
        worked = counts.done + counts.failed  # cancelled jobs cost no time
        eta = None
        if remaining == 0:
            eta = 0.0
        elif worked and started is not None:
            elapsed = (self.clock.now() - started).total_seconds()
            if elapsed > 0:
                eta = round(remaining * elapsed / worked, 1)
        return BatchStatus(
            batch=batch,
            status=batch_state(counts),
            counts=counts,
            progress=round(counts.finished / total, 4),
            eta_seconds=eta,
            started_at=started,
        )

    def cancel(self, owner_id: str, batch_id: str) -> BatchStatus:
        """Cancel every unfinished job of the batch; finished outputs stay."""
        with self.uow() as uow:
            batch = owned_batch(uow, owner_id, batch_id)
            if not uow.jobs.cancel_batch(owner_id, batch.id, self.clock.now()):
                raise Conflict("the batch has no unfinished jobs", {"batch_id": batch_id})
            uow.commit()
        return self.status(owner_id, batch_id)

    def retry_failed(self, owner_id: str, batch_id: str) -> BatchStatus:
        """Run the batch's failed and cancelled jobs again."""
        now = self.clock.now()
        with self.uow() as uow:
            batch = owned_batch(uow, owner_id, batch_id)
            retried = uow.jobs.requeue_batch(owner_id, batch.id, now)
            if not retried:
                raise Conflict(
                    "the batch has no failed or cancelled jobs to retry", {"batch_id": batch_id}
                )
            uow.commit()
        self.queue.enqueue(retried)
        return self.status(owner_id, batch_id)

    def compare(
        self, owner_id: str, batch_id: str, *, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[Pair], str | None]:
        """Before/after pairs, one per prompt, with figures; paged by a cursor."""
        return compare_batch(self.uow, self.assets, owner_id, batch_id, cursor=cursor, limit=limit)
