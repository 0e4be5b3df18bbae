"""Keeps prompt embeddings and the in-process vector index up to date.

- The database queues a prompt when it is written (triggers, migration 0004). `tick()` turns
  queued work into one `embed` job per owner; the job runner runs it like any other job.
- Vectors are stored tagged with the embedder's identity. At start, prompts without a vector
  of the current identity are queued, so a change of embedder re-embeds everything in the
  background; vectors of other identities are dropped once the new ones cover every prompt.
- Each process holds its own index, built from the database on first use and then kept in
  step: jobs run here update it at once, and `tick()` reads what other processes wrote.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from promptcanvas.domain.ids import new_id
from promptcanvas.domain.jobs import Job, JobStatus
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.embeddings import Embedder
from promptcanvas.ports.jobs import JobQueue
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.ports.semantic import EmbeddingStore, StoredVector, Vector, VectorIndex

log = logging.getLogger(__name__)

KIND = "embed"
CHUNK = 1000  # prompts per embed-and-save round of a job
LOAD_PAGE = 20_000
RETRY_SECONDS = 10.0
# Sync re-reads vectors written this long before the newest one it saw: a job stamps its
# rows just before it commits, so a row can become visible slightly after a newer one.
SYNC_OVERLAP = timedelta(seconds=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def text_hash(text: str) -> str:
    """What a stored vector was made from, to skip re-embedding unchanged text."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class SemanticIndexer:
    """Embedding jobs, the index's build and its sync (thread-safe; one per process)."""

    kind = KIND

    def __init__(
        self,
        uow: UowFactory,
        store: EmbeddingStore,
        embedder: Embedder,
        queue: JobQueue,
        clock: Clock,
        *,
        make_index: Callable[[int], VectorIndex],
        sync_seconds: float = 2.0,
        background: bool = True,
    ) -> None:
        self.uow = uow
        self.store = store
        self.embedder = embedder
        self.queue = queue
        self.clock = clock
        self.make_index = make_index
        self.sync_seconds = sync_seconds
        self.background = background
        self._index: VectorIndex | None = None
        self._watermark: datetime | None = None  # newest updated_at this index has applied
        self._build_lock = threading.Lock()
        self._backfilled = False
        self._others_dropped = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._start_lock = threading.Lock()

    @property
    def identity(self) -> str:
        """The identity of the embedder whose vectors are searched."""
        return self.embedder.identity

    # -- the index --------------------------------------------------------------------------

    def ready_index(self) -> VectorIndex | None:
        """The index if it is built; with the background thread on, never waits for a build
        (a million vectors take minutes): queries answer without it meanwhile."""
        if self._index is not None or not self.background:
            return self.index()
        self.start()  # builds it, then keeps it in step
        return None

    def index(self) -> VectorIndex:
        """The index, built from the database the first time it is needed (waits for it)."""
        index = self._index
        if index is not None:
            return index
        with self._build_lock:
            if self._index is None:
                self._index, self._watermark = self._build()
            return self._index

    def _build(self) -> tuple[VectorIndex, datetime | None]:
        index = self.make_index(self.embedder.dim)
        started = self.clock.now()
        after = 0
        while True:
            page = self.store.load(self.identity, after, LOAD_PAGE)
            if not page:
                break
            _apply(index, page)
            after = page[-1].pk
        log.info("semantic index built: %s", index.describe())
        # Rows written during the build are picked up by the next sync.
        return index, started

    def sync(self) -> int:
        """Apply vectors other processes wrote since the last sync; how many were applied."""
        index = self.index()
        since = EPOCH if self._watermark is None else self._watermark - SYNC_OVERLAP
        rows = self.store.changed_since(self.identity, since)
        _apply(index, rows)
        stamps = [r.updated_at for r in rows if r.updated_at is not None]
        if stamps:
            self._watermark = max([*stamps, *([self._watermark] if self._watermark else [])])
        return len(rows)

    # -- queueing jobs ----------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Queue re-embeds after an embedder change, start jobs for owners with queued prompts,
        follow other writers; returns the ids of the jobs it created."""
        if not self._backfilled:
            queued = self.store.enqueue_missing(self.identity)
            if queued:
                log.info("queued %d prompts for embedding with %s", queued, self.identity)
            self._backfilled = True
        busy = self.store.owners_with_jobs(KIND)
        created = [self._submit(owner) for owner in self.store.queued_owners() if owner not in busy]
        if not created and not self._others_dropped:
            total, done, queued = self.store.coverage(self.identity)
            if queued == 0 and done >= total:
                dropped = self.store.drop_other_identities(self.identity)
                if dropped:
                    log.info("dropped %d vectors of earlier embedders", dropped)
                self._others_dropped = True
        if self._index is not None:
            self.sync()
        return created

    def _submit(self, owner_id: str) -> str:
        now = self.clock.now()
        job = Job(
            id=new_id(),
            owner_id=owner_id,
            kind=KIND,
            payload={"identity": self.identity},
            created_at=now,
            run_after=now,
            updated_at=now,
        )
        with self.uow() as uow:
            uow.jobs.add_many([job])
            uow.commit()
        self.queue.enqueue([job.id])
        return job.id

    def start(self) -> None:
        """Build the index and tick every `sync_seconds` on a daemon thread (idempotent)."""
        with self._start_lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._loop, name="semantic-sync", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread (waits for a round in progress, up to timeout)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        try:
            self.index()
        except Exception:
            log.exception("building the semantic index failed")
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the database was briefly away: try again next round
                log.exception("semantic sync failed")
            self._stop.wait(self.sync_seconds)

    # -- the embed job ----------------------------------------------------------------------

    def run_job(self, job: Job, token: str, progress: Callable[[float], None]) -> None:
        """Embed the owner's queued prompts until none is left; never raises."""
        embedded = unchanged = 0
        try:
            while not self._lost(job.id, token):
                batch = self.store.take(job.owner_id, CHUNK)
                if not batch:
                    break
                latest = {q.pk: q for q in batch}  # a prompt queued twice is embedded once
                stored = self.store.hashes(self.identity, list(latest))
                todo = [q for q in latest.values() if stored.get(q.pk) != text_hash(q.text)]
                vectors = self.embedder.embed([q.text for q in todo])
                rows = [(q.pk, text_hash(q.text), vectors[i]) for i, q in enumerate(todo)]
                self.store.save(
                    self.identity, job.owner_id, rows, [q.queue_id for q in batch], self.clock.now()
                )
                if self._index is not None and rows:
                    self._index.upsert(
                        job.owner_id, [r[0] for r in rows], np.stack([r[2] for r in rows])
                    )
                embedded += len(rows)
                unchanged += len(latest) - len(rows)
                progress(0.5)
        except Exception as exc:
            log.warning("embed job %s failed: %s", job.id, exc)
            self._retry_or_fail(job, token, f"embedding failed: {exc}"[:500])
            return
        result = {"identity": self.identity, "embedded": embedded, "unchanged": unchanged}
        self._settle(job, token, JobStatus.SUCCESS, result=result)

    def _lost(self, job_id: str, token: str) -> bool:
        with self.uow(write=False) as uow:
            current = uow.jobs.get(None, job_id)
        return current is None or current.claim_token != token

    def _retry_or_fail(self, job: Job, token: str, message: str) -> None:
        attempts = job.attempts + 1
        if attempts >= job.max_attempts:
            self._settle(job, token, JobStatus.FAILURE, error=message)
            return
        now = self.clock.now()
        delay = RETRY_SECONDS * attempts
        later = job.retried(now, delay, message)
        with self.uow() as uow:
            if uow.jobs.finish(later, token):
                uow.commit()
        self.queue.enqueue([job.id], delay=delay)

    def _settle(
        self,
        job: Job,
        token: str,
        status: JobStatus,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        done = job.ended(
            status, self.clock.now(), error=error, error_kind="embedding", result=result
        )
        with self.uow() as uow:
            if uow.jobs.finish(done, token):
                uow.commit()


def _apply(index: VectorIndex, rows: list[StoredVector]) -> None:
    by_owner: dict[str, list[StoredVector]] = {}
    for row in rows:
        by_owner.setdefault(row.owner_id, []).append(row)
    for owner_id, owned in by_owner.items():
        vectors: list[Vector] = [r.vector for r in owned]
        index.upsert(owner_id, [r.pk for r in owned], np.stack(vectors))
