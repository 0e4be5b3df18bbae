"""Submitting generations and reading jobs: every generation is a durable job."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from promptcanvas.domain import prompts as rules
from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.errors import Conflict, InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id, new_id
from promptcanvas.domain.jobs import Job, JobStatus
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.jobs import Attempt, JobQueue, QueueStats
from promptcanvas.ports.providers import ImageRequest
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.services.assets import AssetService
from promptcanvas.services.paging import decode_cursor, encode_cursor
from promptcanvas.services.providers import ProviderRegistry

MAX_FALLBACKS = 3
MAX_IDEMPOTENCY_KEY = 200
SEED_LIMIT = 2**32
# Request parameters with a meaning of their own; everything else goes to the provider as is.
GENERAL_PARAMS = {
    "width",
    "height",
    "size",
    "steps",
    "cfg_scale",
    "sampler",
    "strength",
    "init_asset_id",
}


@dataclass(frozen=True)
class GenerationRequest:
    """What a client may ask for; validated by `GenerationService.submit`."""

    provider: str
    model: str
    prompt_id: str | None = None
    text: str | None = None
    negative_text: str | None = None
    model_version: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    n: int = 1
    idempotency_key: str | None = None
    fallback: tuple[dict[str, Any], ...] = ()
    cache: bool | None = None
    priority: int = 0
    project_id: str | None = None


@dataclass(frozen=True)
class Submitted:
    """The job that will make the generations; `created` is False for an idempotent repeat."""

    job: Job
    generation_ids: list[str]
    created: bool


@dataclass(frozen=True)
class JobView:
    """A job with its provider calls."""

    job: Job
    attempts: list[Attempt]


def _int(params: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be an integer from {low} to {high}", {"field": name})
    return value


def _float(params: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a number from {low} to {high}", {"field": name})
    return float(value)


def _size(params: dict[str, Any], default: tuple[int, int]) -> tuple[int, int]:
    size = params.get("size")
    if size is not None:
        if not isinstance(size, str) or "x" not in size:
            raise InvalidInput("size must look like 1024x1024", {"field": "size"})
        w, _, h = size.partition("x")
        if not (w.isdigit() and h.isdigit()) or len(w) > 5 or len(h) > 5:
            raise InvalidInput("size must look like 1024x1024", {"field": "size"})
        return int(w), int(h)
    width = _int(params, "width", 1, 16384)
    height = _int(params, "height", 1, 16384)
    if width is None and height is None:
        return default
    return width or height or default[0], height or width or default[1]


def build_target(
    registry: ProviderRegistry,
    *,
    provider: str,
    model: str,
    version: str | None,
    prompt: str,
    negative: str,
    params: dict[str, Any],
    seed: int | None,
    n: int,
    cache: bool | None,
    strict: bool,
    init_image: bytes | None = None,
) -> dict[str, Any]:
    """Validate one provider/model/version for a request; return its job-payload entry.

    `strict` (the first target) refuses parameters the model does not know; fallbacks keep
    only the parameters they understand, so `openai -> local` works with OpenAI options.
    """
    info = registry.image_model(provider, model)
    version = registry.resolve_version(provider, model, version)
    caps = info.image
    assert caps is not None
    default = caps.sizes[0] if caps.sizes else (512, 512)
    width, height = _size(params, default)
    extra = {k: v for k, v in params.items() if k not in GENERAL_PARAMS}
    if not strict:
        extra = {k: v for k, v in extra.items() if k in caps.params}
    chosen_seed = None
    if caps.seed:
        # Image i of n uses seed + i, so the whole run must stay below the limit.
        chosen_seed = seed if seed is not None else secrets.randbelow(SEED_LIMIT - n + 1)
    request = ImageRequest(
        model=model,
        version=version,
        prompt=prompt,
        negative_prompt=negative if caps.negative_prompt else "",
        width=width,
        height=height,
        seed=chosen_seed,
        n=n,
        steps=_int(params, "steps", 1, 500),
        cfg_scale=_float(params, "cfg_scale", 0.0, 50.0),
        sampler=_sampler(params),
        strength=_float(params, "strength", 0.0, 1.0),
        init_image=init_image,
        params=extra,
    )
    if strict:
        registry.validate(provider, request)
    else:
        try:
            registry.validate(provider, request)
        except InvalidInput:
            # A fallback may not know sampler settings meant for the first target: drop them.
            request = replace(request, steps=None, cfg_scale=None, sampler=None, strength=None)
            registry.validate(provider, request)
    recorded: dict[str, Any] = {"width": width, "height": height, **extra}
    for name in ("steps", "cfg_scale", "sampler", "strength"):
        if getattr(request, name) is not None:
            recorded[name] = getattr(request, name)
    if init_image is not None:
        recorded["init_asset_id"] = params["init_asset_id"]
    return {
        "provider": provider,
        "model": model,
        "model_version": version,
        "cache": bool(caps.deterministic if cache is None else cache),
        "parameters": recorded,
        "request": {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "width": width,
            "height": height,
            "seed": chosen_seed,
            "n": n,
            "steps": request.steps,
            "cfg_scale": request.cfg_scale,
            "sampler": request.sampler,
            "strength": request.strength,
            "init_asset_id": params.get("init_asset_id") if init_image is not None else None,
            "params": extra,
        },
    }


def _sampler(params: dict[str, Any]) -> str | None:
    value = params.get("sampler")
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 100:
        raise InvalidInput("sampler must be a name of at most 100 characters", {"field": "sampler"})
    return value


def request_hash(req: GenerationRequest) -> str:
    """Fingerprint of a submission, to tell an idempotent repeat from a key reused by mistake."""
    body = {k: v for k, v in req.__dict__.items() if k != "idempotency_key"}
    raw = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


class GenerationService:
    """Submit generations; read, cancel and retry jobs."""

    def __init__(
        self,
        uow: UowFactory,
        registry: ProviderRegistry,
        queue: JobQueue,
        clock: Clock,
        *,
        max_attempts: int,
        assets: AssetService | None = None,
    ) -> None:
        self.assets = assets
        self.uow = uow
        self.registry = registry
        self.queue = queue
        self.clock = clock
        self.max_attempts = max_attempts

    def submit(self, owner_id: str, req: GenerationRequest) -> Submitted:
        """Validate everything, then queue one job that makes `n` generations."""
        key = req.idempotency_key
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                f"idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                {"field": "idempotency_key"},
            )
        fingerprint = request_hash(req)
        if key is not None:
            existing = self._existing(owner_id, key, fingerprint)
            if existing is not None:
                return existing
        if (req.prompt_id is None) == (req.text is None):
            raise InvalidInput("give exactly one of prompt_id and text", {"field": "prompt_id"})
        if not 1 <= req.n <= 16:
            raise InvalidInput("n must be from 1 to 16", {"field": "n"})
        if req.seed is not None and not 0 <= req.seed <= SEED_LIMIT - req.n:
            raise InvalidInput(
                f"seed must be from 0 to {SEED_LIMIT - req.n} (image i of n uses seed + i)",
                {"field": "seed"},
            )
        if len(req.fallback) > MAX_FALLBACKS:
            raise InvalidInput(f"at most {MAX_FALLBACKS} fallbacks", {"field": "fallback"})
        init_image = self._init_image(owner_id, req.params.get("init_asset_id"))
        try:
            job = self._store(owner_id, req, key, fingerprint, init_image)
        except Conflict:
            # A racing request with the same idempotency key may have stored its job between
            # our look and our insert: answer with that job, as if we had found it first.
            winner = self._existing(owner_id, key, fingerprint) if key is not None else None
            if winner is None:
                raise
            return winner
        self.queue.enqueue([job.id])
        return Submitted(job, job.generation_ids, True)

    def _store(
        self,
        owner_id: str,
        req: GenerationRequest,
        key: str | None,
        fingerprint: str,
        init_image: bytes | None,
    ) -> Job:
        now = self.clock.now()
        with self.uow() as uow:
            if req.prompt_id is not None:
                prompt = (
                    uow.prompts.get(owner_id, req.prompt_id) if is_valid_id(req.prompt_id) else None
                )
                if prompt is None:
                    raise NotFound("prompt not found", {"field": "prompt_id"})
                if prompt.in_trash:
                    raise Conflict("the prompt is in the trash; restore it first")
                new_prompt = None
            else:
                assert req.text is not None
                prompt = new_prompt = rules.new_prompt(
                    owner_id=owner_id,
                    text=req.text,
                    negative_text=req.negative_text or "",
                    project_id=req.project_id,
                    now=now,
                )
                if req.project_id is not None and (
                    not is_valid_id(req.project_id)
                    or uow.projects.get(owner_id, req.project_id) is None
                ):
                    raise NotFound("project not found", {"field": "project_id"})
            targets = self._targets(req, prompt.text, prompt.negative_text, init_image)
            if new_prompt is not None:
                uow.prompts.add(new_prompt)
            job, gens = self.make_job(
                owner_id, prompt.id, prompt.text, targets, now, key=key, fingerprint=fingerprint
            )
            job.priority = max(-100, min(100, req.priority))
            uow.jobs.add_many([job])
            uow.assets.add_generations(gens)
            uow.commit()
        return job

    def _existing(self, owner_id: str, key: str, fingerprint: str) -> Submitted | None:
        with self.uow(write=False) as uow:
            job = uow.jobs.by_idempotency_key(owner_id, key)
        if job is None:
            return None
        if job.request_hash != fingerprint:
            raise Conflict(
                "this idempotency_key was used for a different request",
                {"field": "idempotency_key", "job_id": job.id},
            )
        return Submitted(job, job.generation_ids, False)

    def _init_image(self, owner_id: str, asset_id: Any) -> bytes | None:
        """The bytes of the owner's asset named as the input image, if any."""
        if asset_id is None:
            return None
        if not isinstance(asset_id, str) or self.assets is None:
            raise InvalidInput("init_asset_id must be an asset id", {"field": "init_asset_id"})
        asset = self.assets.get(owner_id, asset_id)
        with self.assets.open(asset) as stream:
            return stream.read()

    def _targets(
        self, req: GenerationRequest, text: str, negative: str, init_image: bytes | None
    ) -> list[dict[str, Any]]:
        chain: list[dict[str, Any]] = [
            {"provider": req.provider, "model": req.model, "model_version": req.model_version}
        ]
        for item in req.fallback:
            if not isinstance(item, dict) or not isinstance(item.get("provider"), str):
                raise InvalidInput(
                    "each fallback is {provider, model, model_version?}", {"field": "fallback"}
                )
            chain.append(item)
        targets = []
        for i, t in enumerate(chain):
            model = t.get("model")
            version = t.get("model_version")
            if not isinstance(model, str) or not (version is None or isinstance(version, str)):
                raise InvalidInput("model must be a name", {"field": "fallback" if i else "model"})
            targets.append(
                build_target(
                    self.registry,
                    provider=t["provider"],
                    model=model,
                    version=version,
                    prompt=text,
                    negative=negative,
                    params=req.params,
                    seed=req.seed,
                    n=req.n,
                    cache=req.cache,
                    strict=i == 0,
                    init_image=init_image,
                )
            )
        return targets

    def make_job(
        self,
        owner_id: str,
        prompt_id: str,
        text: str,
        targets: list[dict[str, Any]],
        now: datetime,
        *,
        key: str | None = None,
        fingerprint: str | None = None,
        batch_id: str | None = None,
        source_generation_id: str | None = None,
    ) -> tuple[Job, list[Generation]]:
        """A PENDING job and its PENDING generations (not yet stored)."""
        first = targets[0]
        n = first["request"]["n"]
        job_id = new_id()
        seed = first["request"]["seed"]
        gens = [
            Generation(
                id=new_id(),
                owner_id=owner_id,
                prompt_id=prompt_id,
                provider=first["provider"],
                model=first["model"],
                model_version=first["model_version"],
                parameters=first["parameters"],
                created_at=now,
                seed=None if seed is None else seed + i,
                status=JobStatus.PENDING.value,
                job_id=job_id,
                batch_id=batch_id,
                source_generation_id=source_generation_id,
            )
            for i in range(n)
        ]
        job = Job(
            id=job_id,
            owner_id=owner_id,
            kind="generate",
            payload={
                "prompt_id": prompt_id,
                "text": text,
                "targets": targets,
                "generation_ids": [g.id for g in gens],
            },
            created_at=now,
            run_after=now,
            updated_at=now,
            max_attempts=self.max_attempts,
            batch_id=batch_id,
            idempotency_key=key,
            request_hash=fingerprint,
        )
        job.generation_ids = [g.id for g in gens]
        return job, gens

    # -- reading --------------------------------------------------------------------------

    def generation(self, owner_id: str, generation_id: str) -> tuple[Generation, list[Asset]]:
        """One generation with its stored files."""
        with self.uow(write=False) as uow:
            found = (
                uow.jobs.get_generation(owner_id, generation_id)
                if is_valid_id(generation_id)
                else None
            )
            if found is None:
                raise NotFound("generation not found", {"generation_id": generation_id})
            assets = uow.assets.assets_by_ids(owner_id, found.asset_ids)
        return found, [assets[a] for a in found.asset_ids if a in assets]

    def job(self, owner_id: str, job_id: str) -> JobView:
        """One of the owner's jobs with its attempts."""
        with self.uow(write=False) as uow:
            job = uow.jobs.get(owner_id, job_id) if is_valid_id(job_id) else None
            if job is None:
                raise NotFound("job not found", {"job_id": job_id})
            return JobView(job, uow.jobs.attempts(job.id))

    def jobs(
        self,
        owner_id: str,
        *,
        status: str | None = None,
        batch_id: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Job], str | None]:
        """The owner's jobs, newest first, with a cursor for the next page."""
        state = None
        if status is not None:
            try:
                state = JobStatus(status.upper())
            except ValueError:
                names = ", ".join(s.value for s in JobStatus)
                raise InvalidInput(f"status must be one of {names}", {"field": "status"}) from None
        if batch_id is not None and not is_valid_id(batch_id):
            raise NotFound("batch not found", {"field": "batch_id"})
        if not 1 <= limit <= 200:
            raise InvalidInput("limit must be from 1 to 200", {"field": "limit"})
        filters = {"status": state, "batch_id": batch_id}
        before = None
        if cursor:
            pos = decode_cursor(cursor, filters)
            try:
                before = (datetime.fromisoformat(pos["c"]), str(pos["i"]))
            except (KeyError, TypeError, ValueError):
                raise InvalidInput("cursor is not valid", {"field": "cursor"}) from None
        with self.uow(write=False) as uow:
            found = uow.jobs.find(
                owner_id, status=state, batch_id=batch_id, before=before, limit=limit + 1
            )
        more = len(found) > limit
        found = found[:limit]
        next_cursor = None
        if more and found:
            last = found[-1]
            next_cursor = encode_cursor({"c": last.created_at.isoformat(), "i": last.id}, filters)
        return found, next_cursor

    def jobs_changed(self, owner_id: str, after: tuple[datetime, str], limit: int) -> list[Job]:
        """The owner's jobs changed after an (updated_at, id) mark, oldest change first."""
        with self.uow(write=False) as uow:
            return uow.jobs.updated_since(owner_id, after, limit)

    def stats(self) -> QueueStats:
        """Deployment-wide job figures for monitoring."""
        with self.uow(write=False) as uow:
            return uow.jobs.stats(self.clock.now())

    def cancel(self, owner_id: str, job_id: str) -> Job:
        """Cancel a job that has not finished; its output, if it arrives later, is dropped."""
        now = self.clock.now()
        with self.uow() as uow:
            job = uow.jobs.get(owner_id, job_id) if is_valid_id(job_id) else None
            if job is None:
                raise NotFound("job not found", {"job_id": job_id})
            if not uow.jobs.cancel(job.id, now):
                raise Conflict(f"the job already ended ({job.status.value})", {"job_id": job_id})
            uow.jobs.set_generations(job.id, JobStatus.CANCELLED, now, "cancelled")
            uow.commit()
            job = uow.jobs.get(owner_id, job_id) or job
        return job

    def retry(self, owner_id: str, job_id: str) -> Job:
        """Run a failed or cancelled job again."""
        now = self.clock.now()
        with self.uow() as uow:
            job = uow.jobs.get(owner_id, job_id) if is_valid_id(job_id) else None
            if job is None:
                raise NotFound("job not found", {"job_id": job_id})
            if not uow.jobs.requeue(job.id, now):
                raise Conflict(
                    f"only failed or cancelled jobs can be retried (this one is "
                    f"{job.status.value})",
                    {"job_id": job_id},
                )
            uow.jobs.reset_generations(job.id)
            uow.commit()
            job = uow.jobs.get(owner_id, job_id) or job
        self.queue.enqueue([job.id])
        return job
