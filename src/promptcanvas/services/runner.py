"""Runs jobs: claim from the table, call the provider under shared limits, store, finish.

Retries, fallbacks and rate limits live here, once, for every provider. Adapters make one
attempt each; this module decides what happens after it. Each call first passes the
provider's circuit breaker (`services.circuit`), which holds jobs back while it is open.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.breaker import BreakerState, Outcome, outcome_of
from promptcanvas.domain.errors import DomainError
from promptcanvas.domain.jobs import Job, JobStatus, RetryPolicy
from promptcanvas.ports.breaker import CircuitBreaker
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.jobs import Attempt, JobQueue, Permit, Throttle
from promptcanvas.ports.providers import ImageRequest, ProviderError, Unavailable
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.services.assets import AssetService
from promptcanvas.services.circuit import BreakerGate
from promptcanvas.services.outputs import a1111_parameters, cache_key, embed_png_text
from promptcanvas.services.providers import ProviderEntry, ProviderRegistry, image_cost

log = logging.getLogger(__name__)

BOOT = secrets.token_hex(4)  # tells this process apart from an earlier one with the same pid
THROTTLE_WAIT_LIMIT = 10.0  # wait this long for a provider slot in-thread; longer: reschedule
# A provider slot is held on a short lease of its own, renewed while the call runs, so the
# slots of a crashed worker free up within seconds rather than after a provider timeout.
SLOT_TTL_SECONDS = 15.0
# A probe's lease on a half-open breaker outlasts its call: the provider timeout plus this.
PROBE_SLACK_SECONDS = THROTTLE_WAIT_LIMIT + 5.0


def worker_name(label: str = "w") -> str:
    """`host:pid:boot:label`, so a restarted host can tell its dead workers' jobs apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{BOOT}:{label}"


def worker_is_dead(worker: str) -> bool:
    """True when `worker` ran on this host in a process that no longer exists."""
    parts = worker.split(":")
    if len(parts) < 4 or parts[0] != socket.gethostname():
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return parts[2] != BOOT
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobRunner:
    """Executes generation jobs for one worker process (thread-safe; one per process)."""

    def __init__(
        self,
        uow: UowFactory,
        registry: ProviderRegistry,
        assets: AssetService,
        throttle: Throttle,
        clock: Clock,
        *,
        policy: RetryPolicy,
        lease_seconds: float,
        queue: JobQueue | None = None,
        breaker: CircuitBreaker | None = None,
        breaker_max_wait: float = 900.0,
    ) -> None:
        self.uow = uow
        self.gate = BreakerGate(
            breaker,
            uow,
            clock,
            queue,
            max_wait=breaker_max_wait,
            probe_slack=PROBE_SLACK_SECONDS,
        )
        self.registry = registry
        self.assets = assets
        self.throttle = throttle
        self.clock = clock
        self.policy = policy
        self.lease = timedelta(seconds=lease_seconds)
        self.queue = queue
        self._held: dict[str, tuple[str, float]] = {}  # job id -> (claim token, progress)
        self._permits: dict[str, Permit] = {}  # job id -> the provider slot of its call
        self.slot_ttl = max(1.5, min(SLOT_TTL_SECONDS, lease_seconds))
        self._lock = threading.Lock()
        self._keeper: threading.Thread | None = None
        self._stop = threading.Event()
        # Other job kinds ("import"): handler(job, claim token, progress) settles the job itself.
        self.kinds: dict[str, Callable[[Job, str, Callable[[float], None]], None]] = {}

    # -- claiming -------------------------------------------------------------------------

    def run_next(self, label: str = "w") -> bool:
        """Claim and run one runnable job; False when there was none."""
        job = self._claim(label, None)
        if job is None:
            return False
        self._execute(job)
        return True

    def run_job(self, job_id: str, label: str = "w") -> bool:
        """Run this job if it is runnable now (a delivery from a broker); False otherwise."""
        job = self._claim(label, job_id)
        if job is None:
            return False
        self._execute(job)
        return True

    def _claim(self, label: str, job_id: str | None) -> Job | None:
        token = secrets.token_hex(16)
        now = self.clock.now()
        with self.uow() as uow:
            job = uow.jobs.claim(
                worker=worker_name(label),
                token=token,
                now=now,
                lease_until=now + self.lease,
                job_id=job_id,
            )
            if job is None:
                return None
            uow.jobs.set_generations(job.id, JobStatus.RUNNING, now)
            uow.commit()
        with self._lock:
            self._held[job.id] = (token, 0.0)
        self._start_keeper()
        return job

    def recover(self) -> int:
        """Put back jobs left RUNNING by dead processes on this host; returns how many."""
        with self.uow() as uow:
            dead = [job_id for job_id, worker in uow.jobs.running() if worker_is_dead(worker)]
            released = uow.jobs.release(dead, self.clock.now())
            uow.commit()
        if released:
            log.warning("re-queued %d job(s) left running by a dead worker", released)
            if self.queue is not None:
                self.queue.enqueue(dead)
        return released

    def redeliver(
        self, older_than_seconds: float = 15.0, limit: int = 500, *, waiting: int = 0
    ) -> int:
        """Re-send runnable jobs nobody claimed (lost deliveries, expired leases).

        `waiting` is how many deliveries the broker still holds: while there is such a backlog
        only the shortfall (runnable jobs the backlog cannot account for) is re-sent, oldest
        first, so a long queue is not filled with duplicates of messages still in it.
        """
        if self.queue is None:
            return 0
        now = self.clock.now()
        with self.uow(write=False) as uow:
            if waiting > 0:
                limit = min(limit, uow.jobs.runnable_count(now) - waiting)
                if limit <= 0:
                    return 0
            ids = uow.jobs.stale(
                now, older_than=now - timedelta(seconds=older_than_seconds), limit=limit
            )
        if ids:
            self.queue.enqueue(ids)
        return len(ids)

    # -- leases ---------------------------------------------------------------------------

    def _start_keeper(self) -> None:
        with self._lock:
            if self._keeper is not None:
                return
            self._keeper = threading.Thread(target=self._keep_leases, name="lease-keeper")
            self._keeper.daemon = True
            self._keeper.start()

    def _keep_leases(self) -> None:
        # Progress is written within a second of changing; leases are renewed at a third
        # of their length, so a busy SQLite file sees few extra writes.
        renew_every = max(0.5, self.lease.total_seconds() / 3)
        written: dict[str, tuple[float, float]] = {}  # job id -> (progress, monotonic time)
        slots_renewed = time.monotonic()
        while not self._stop.wait(min(1.0, renew_every)):
            if time.monotonic() - slots_renewed >= self.slot_ttl / 3:
                slots_renewed = time.monotonic()
                self._renew_slots()
            with self._lock:
                held = dict(self._held)
            for gone in set(written) - set(held):
                del written[gone]
            for job_id, (token, progress) in held.items():
                last = written.get(job_id)
                now = time.monotonic()
                if last is None:
                    # The claim has just set the lease: nothing to write until something changes.
                    last = written[job_id] = (0.0, now)
                if last is not None and last[0] == progress and now - last[1] < renew_every:
                    continue
                try:
                    with self.uow() as uow:
                        stamp = self.clock.now()
                        uow.jobs.heartbeat(job_id, token, stamp + self.lease, progress, stamp)
                        uow.commit()
                    written[job_id] = (progress, now)
                except Exception:  # a missed heartbeat is retried; the lease has slack
                    log.exception("lease heartbeat failed for job %s", job_id)

    def _renew_slots(self) -> None:
        with self._lock:
            permits = dict(self._permits)
        for job_id, permit in permits.items():
            try:
                renewed = self.throttle.renew(permit, self.slot_ttl)
            except Exception:  # retried next round; a slot outlives two missed renewals
                log.exception("renewing the provider slot of job %s failed", job_id)
                continue
            if not renewed and job_id in self._permits:
                log.warning("job %s lost its %s slot before its call ended", job_id, permit.key)

    def stop(self) -> None:
        """Stop the lease keeper (jobs in flight finish or are recovered after a restart)."""
        self._stop.set()

    def _progress(self, job_id: str) -> Callable[[float], None]:
        def report(fraction: float) -> None:
            with self._lock:
                if job_id in self._held:
                    token, _ = self._held[job_id]
                    self._held[job_id] = (token, max(0.0, min(1.0, float(fraction))))

        return report

    # -- running --------------------------------------------------------------------------

    def _execute(self, job: Job) -> None:
        token = self._held[job.id][0]
        try:
            if job.kind in self.kinds:
                self.kinds[job.kind](job, token, self._progress(job.id))
                return
            if job.kind != "generate":
                self._finish(job, token, JobStatus.FAILURE, error=f"unknown job kind {job.kind}")
                return
            self._generate(job, token)
        except Exception:
            # A bug or an outage outside the provider (database, storage): retry by policy.
            log.exception("job %s failed unexpectedly", job.id)
            try:
                if job.kind != "generate":  # other kinds settle themselves; this one could not
                    self._finish(job, token, JobStatus.FAILURE, error="internal error")
                else:
                    self._failed(job, token, _target(job), Unavailable("internal error"), None)
            except Exception:
                log.exception("could not record the failure of job %s", job.id)
        finally:
            with self._lock:
                self._held.pop(job.id, None)

    def _generate(self, job: Job, token: str) -> None:
        target = _target(job)
        try:
            adapter, entry = self.registry.image(target["provider"])
        except DomainError as exc:
            self._failed(job, token, target, _Permanent(exc.message), None)
            return
        request = _request(target, self._init_image(job, target))
        if target.get("cache") and self._from_cache(job, token, target):
            return
        admission = self.gate.admit(job, token, target, entry)
        if admission is None:
            return
        try:
            permit = self._acquire(job, token, entry)
        except BaseException:
            # No call was made: give a probe's turn back rather than hold it for its lease.
            self.gate.outcome(entry, admission, Outcome.NEUTRAL)
            raise
        if permit is None:
            self.gate.outcome(entry, admission, Outcome.NEUTRAL)
            return
        with self._lock:
            self._permits[job.id] = permit
        started = self.clock.now()
        t0 = time.monotonic()
        try:
            result = adapter.generate_image(request, self._progress(job.id))
            if len(result.images) < request.n:
                raise Unavailable(f"the provider returned {len(result.images)} of {request.n}")
        except ProviderError as exc:
            self.gate.outcome(entry, admission, outcome_of(exc.kind))
            self._failed(job, token, target, exc, started)
            return
        except Exception:
            log.exception("provider %s raised an unexpected error", entry.name)
            self.gate.outcome(entry, admission, Outcome.FAILURE)
            err = Unavailable("the provider adapter failed unexpectedly")
            self._failed(job, token, target, err, started)
            return
        else:
            self.gate.outcome(entry, admission, Outcome.SUCCESS)
        finally:
            with self._lock:
                self._permits.pop(job.id, None)
            self.throttle.release(permit)
        latency_ms = int((time.monotonic() - t0) * 1000)
        cost = image_cost(
            entry.config,
            request.model,
            width=request.width,
            height=request.height,
            quality=request.params.get("quality"),
            n=request.n,
            usage=dict(result.usage),
        )
        outputs: list[tuple[Generation, bytes]] = []
        for i, (gen_id, image) in enumerate(zip(job.generation_ids, result.images, strict=False)):
            seed = image.seed if image.seed is not None else _seed(request.seed, i)
            generation = self._generation(job, target, gen_id, seed)
            generation.latency_ms = latency_ms
            generation.cost = None if cost is None else round(cost / request.n, 6)
            generation.revised_prompt = image.revised_prompt
            generation.usage = dict(result.usage) or None
            if result.model_version and not generation.model_version:
                generation.model_version = result.model_version
            data = image.data
            if image.media_type == "image/png":
                data = embed_png_text(data, self._metadata(job, generation, request))
            outputs.append((generation, data))
        self._store(job, token, target, outputs, started)

    def _init_image(self, job: Job, target: dict[str, Any]) -> bytes | None:
        asset_id = target["request"].get("init_asset_id")
        if not asset_id:
            return None
        asset = self.assets.get(job.owner_id, asset_id)
        with self.assets.open(asset) as stream:
            return stream.read()

    def _generation(
        self, job: Job, target: dict[str, Any], gen_id: str, seed: int | None
    ) -> Generation:
        targets = job.payload["targets"]
        fallback_from = None
        if job.target_index > 0:
            first = targets[0]
            fallback_from = f"{first['provider']}:{first['model']}" + (
                f"@{first['model_version']}" if first.get("model_version") else ""
            )
        key = None
        if target.get("cache"):
            key = self._cache_key(job, target, seed)
        return Generation(
            id=gen_id,
            owner_id=job.owner_id,
            prompt_id=job.payload["prompt_id"],
            provider=target["provider"],
            model=target["model"],
            model_version=target.get("model_version"),
            parameters=dict(target["parameters"]),
            created_at=job.created_at,
            seed=seed,
            cache_key=key,
            fallback_from=fallback_from,
            finished_at=self.clock.now(),
        )

    def _cache_key(self, job: Job, target: dict[str, Any], seed: int | None) -> str:
        return cache_key(
            provider=target["provider"],
            model=target["model"],
            version=target.get("model_version"),
            prompt=job.payload["text"],
            negative_prompt=target["request"].get("negative_prompt", ""),
            parameters=target["parameters"],
            seed=seed,
        )

    def _metadata(
        self, job: Job, generation: Generation, request: ImageRequest
    ) -> list[tuple[str, str]]:
        params = generation.parameters
        text = a1111_parameters(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            settings=[
                # Readers (sd-parsers, A1111's PNG Info) need all three; models without those
                # notions get their neutral values: one pass, no guidance, the provider's name.
                ("Steps", params.get("steps") or 1),
                ("Sampler", params.get("sampler") or generation.provider),
                ("CFG scale", params.get("cfg_scale") or 1),
                ("Seed", generation.seed),
                ("Size", f"{request.width}x{request.height}"),
                ("Model", generation.model),
                ("Model version", generation.model_version),
                ("Provider", generation.provider),
                ("Denoising strength", params.get("strength")),
                ("Version", "PromptCanvas"),
            ],
        )
        record = {
            "generator": "PromptCanvas",
            "generation_id": generation.id,
            "prompt_id": job.payload["prompt_id"],
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "provider": generation.provider,
            "model": generation.model,
            "model_version": generation.model_version,
            "seed": generation.seed,
            "parameters": params,
            "revised_prompt": generation.revised_prompt,
        }
        return [("parameters", text), ("promptcanvas", json.dumps(record, ensure_ascii=False))]

    def _store(
        self,
        job: Job,
        token: str,
        target: dict[str, Any],
        outputs: list[tuple[Generation, bytes]],
        started: Any,
    ) -> None:
        prepared: list[tuple[Generation, Asset, bytes, bytes]] = []
        for generation, data in outputs:
            try:
                asset, thumb = self.assets.prepare_output(
                    job.owner_id, data, f"{generation.id}.{_ext(data)}"
                )
            except DomainError as exc:
                err = Unavailable(f"the provider's output could not be stored: {exc.message}")
                self._failed(job, token, target, err, started)
                return
            prepared.append((generation, asset, data, thumb))
        now = self.clock.now()
        with self.uow() as uow:
            for generation, asset, _, _ in prepared:
                stored = uow.assets.add(asset)
                generation.asset_ids = [stored.id]
                uow.jobs.complete_generation(generation)
            done = replace(
                job,
                status=JobStatus.SUCCESS,
                attempts=job.attempts + 1,
                target_attempts=job.target_attempts + 1,
                result={
                    "generation_ids": [g.id for g, *_ in prepared],
                    "asset_ids": [g.asset_ids[0] for g, *_ in prepared],
                    "provider": target["provider"],
                    "model": target["model"],
                    "model_version": target.get("model_version"),
                },
                error=None,
                error_kind=None,
                progress=1.0,
                finished_at=now,
                updated_at=now,
            )
            if not uow.jobs.finish(done, token):
                log.info("job %s was cancelled or taken over; its output is dropped", job.id)
                return
            uow.jobs.record_attempt(self._attempt(job, target, started or now, now, "success"))
            uow.commit()
        for _, asset, data, thumb in prepared:
            self.assets.restore_files(asset.sha256, data, thumb)

    def _from_cache(self, job: Job, token: str, target: dict[str, Any]) -> bool:
        seeds = [_seed(target["request"].get("seed"), i) for i in range(len(job.generation_ids))]
        with self.uow(write=False) as uow:
            hits = [
                uow.jobs.cached_generation(job.owner_id, self._cache_key(job, target, s))
                for s in seeds
            ]
        if any(h is None for h in hits):
            return False
        now = self.clock.now()
        with self.uow() as uow:
            for gen_id, seed, hit in zip(job.generation_ids, seeds, hits, strict=True):
                assert hit is not None
                generation = self._generation(job, target, gen_id, seed)
                generation.asset_ids = list(hit.asset_ids)
                generation.cached_from = hit.id
                generation.latency_ms = 0
                generation.cost = 0.0
                uow.jobs.complete_generation(generation)
            done = replace(
                job,
                status=JobStatus.SUCCESS,
                result={"generation_ids": job.generation_ids, "cached": True},
                progress=1.0,
                finished_at=now,
                updated_at=now,
            )
            if uow.jobs.finish(done, token):
                uow.commit()
        return True

    # -- circuit breaker ------------------------------------------------------------------

    @property
    def breaker(self) -> CircuitBreaker | None:
        """The per-provider circuit breakers (None: none)."""
        return self.gate.breaker

    @property
    def breaker_max_wait(self) -> float:
        """How long a job may wait for an open breaker with no fallback left."""
        return self.gate.max_wait

    @breaker_max_wait.setter
    def breaker_max_wait(self, seconds: float) -> None:
        self.gate.max_wait = seconds

    def circuit(self, provider: str) -> BreakerState:
        """The provider's breaker state (CLOSED without a breaker or when it is unreadable)."""
        return self.gate.circuit(provider)

    def _acquire(self, job: Job, token: str, entry: ProviderEntry) -> Permit | None:
        config = entry.config
        deadline = time.monotonic() + THROTTLE_WAIT_LIMIT
        while True:
            got = self.throttle.acquire(
                f"provider:{config.name}",
                concurrency=config.concurrency,
                per_minute=config.requests_per_minute,
                ttl=self.slot_ttl,
            )
            if isinstance(got, Permit):
                return got
            if time.monotonic() + got > deadline:
                # A long wait (a per-minute budget spent): free this worker for other work.
                now = self.clock.now()
                later = replace(
                    job,
                    status=JobStatus.PENDING,
                    run_after=now + timedelta(seconds=got),
                    updated_at=now,
                )
                with self.uow() as uow:
                    if uow.jobs.finish(later, token):
                        uow.jobs.set_generations(job.id, JobStatus.PENDING, now)
                        uow.commit()
                if self.queue is not None:
                    self.queue.enqueue([job.id], delay=got)
                return None
            time.sleep(min(got, 0.25))

    def _failed(
        self,
        job: Job,
        token: str,
        target: dict[str, Any],
        error: ProviderError,
        started: Any,
    ) -> None:
        now = self.clock.now()
        targets = job.payload["targets"]
        decision = self.policy.decide(
            retryable=error.retryable,
            target_attempts=job.target_attempts + 1,
            has_fallback=job.target_index + 1 < len(targets),
            retry_after=getattr(error, "retry_after", None),
        )
        updated = replace(
            job,
            attempts=job.attempts + 1,
            target_attempts=job.target_attempts + 1,
            error=error.message,
            error_kind=error.kind,
            updated_at=now,
        )
        if decision.action == "retry":
            updated.status = JobStatus.PENDING
            updated.run_after = now + timedelta(seconds=decision.delay)
        elif decision.action == "fallback":
            updated.status = JobStatus.PENDING
            updated.target_index = job.target_index + 1
            updated.target_attempts = 0
            updated.run_after = now
        else:
            updated.status = JobStatus.FAILURE
            updated.finished_at = now
        with self.uow() as uow:
            if not uow.jobs.finish(updated, token):
                return
            if started is not None:
                attempt = self._attempt(job, target, started, now, error.kind, error.message)
                uow.jobs.record_attempt(attempt)
            if updated.status is JobStatus.FAILURE:
                uow.jobs.set_generations(job.id, JobStatus.FAILURE, now, error.message)
            else:
                uow.jobs.set_generations(job.id, JobStatus.PENDING, now)
            uow.commit()
        log.info(
            "job %s attempt %d on %s: %s (%s) -> %s",
            job.id,
            updated.attempts,
            target["provider"],
            error.kind,
            error.message,
            decision.action,
        )
        if self.queue is not None and updated.status is JobStatus.PENDING:
            self.queue.enqueue([job.id], delay=decision.delay)

    def _attempt(
        self,
        job: Job,
        target: dict[str, Any],
        started: Any,
        finished: Any,
        outcome: str,
        message: str | None = None,
    ) -> Attempt:
        return Attempt(
            job_id=job.id,
            attempt=job.attempts + 1,
            provider=target["provider"],
            model=target["model"],
            worker=job.worker,
            started_at=started,
            finished_at=finished,
            outcome=outcome,
            message=message,
        )

    def _finish(self, job: Job, token: str, status: JobStatus, *, error: str) -> None:
        now = self.clock.now()
        with self.uow() as uow:
            failed = replace(job, status=status, error=error, finished_at=now, updated_at=now)
            if uow.jobs.finish(failed, token):
                uow.jobs.set_generations(job.id, status, now, error)
                uow.commit()


class _Permanent(ProviderError):
    """A failure no retry can fix (the provider is no longer configured)."""

    kind = "invalid_request"
    retryable = False


def _target(job: Job) -> dict[str, Any]:
    targets: list[dict[str, Any]] = job.payload["targets"]
    return targets[min(job.target_index, len(targets) - 1)]


def _request(target: dict[str, Any], init_image: bytes | None) -> ImageRequest:
    r = target["request"]
    return ImageRequest(
        model=target["model"],
        version=target.get("model_version"),
        prompt=r["prompt"],
        negative_prompt=r.get("negative_prompt", ""),
        width=r["width"],
        height=r["height"],
        seed=r.get("seed"),
        n=r.get("n", 1),
        steps=r.get("steps"),
        cfg_scale=r.get("cfg_scale"),
        sampler=r.get("sampler"),
        strength=r.get("strength"),
        init_image=init_image,
        params=r.get("params", {}),
    )


def _seed(seed: int | None, index: int) -> int | None:
    return None if seed is None else seed + index


def _ext(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    return "webp" if data[8:12] == b"WEBP" else "bin"
