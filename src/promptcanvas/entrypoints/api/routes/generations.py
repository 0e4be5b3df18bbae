"""/api/v1/generations and /api/v1/jobs: submit work, follow it, cancel or retry it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from promptcanvas.domain.errors import DomainError
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.job_schemas import (
    GenerationCreate,
    GenerationQueued,
    JobPublic,
    JobsPublic,
)
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    GenerationPublic,
    error_responses,
)
from promptcanvas.services.generate import GenerationRequest

router = APIRouter(prefix="/api/v1", tags=["generations"], responses=API_ERRORS)
ERRORS = error_responses(404)
EVENT_POLL_SECONDS = 0.5


@router.post(
    "/generations",
    status_code=202,
    response_model=GenerationQueued,
    responses={
        200: {"model": GenerationQueued, "description": "Same idempotency_key: the same job"},
        **error_responses(409),
        **ERRORS,
    },
)
def submit_generation(
    body: GenerationCreate, response: Response, user: CurrentUser, c: ContainerDep
) -> GenerationQueued:
    """Queue a generation of a stored prompt (prompt_id) or of new text (text)."""
    submitted = c.generations.submit(
        user.id,
        GenerationRequest(
            provider=body.provider,
            model=body.model,
            model_version=body.model_version,
            prompt_id=body.prompt_id,
            text=body.text,
            negative_text=body.negative_text,
            project_id=body.project_id,
            params=body.params,
            seed=body.seed,
            n=body.n,
            idempotency_key=body.idempotency_key,
            fallback=tuple(f.model_dump() for f in body.fallback),
            cache=body.cache,
            priority=body.priority,
        ),
    )
    if not submitted.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/jobs/{submitted.job.id}"
    return GenerationQueued(
        job_id=submitted.job.id,
        generation_ids=submitted.generation_ids,
        status=submitted.job.status.value,
        created=submitted.created,
    )


@router.get("/generations/{generation_id}", response_model=GenerationPublic, responses=ERRORS)
def get_generation(generation_id: str, user: CurrentUser, c: ContainerDep) -> GenerationPublic:
    """A generation: provider, model, version, parameters, seed, status, latency, cost, files."""
    generation, assets = c.generations.generation(user.id, generation_id)
    return GenerationPublic.of(generation, assets)


@router.get("/jobs", response_model=JobsPublic, responses=ERRORS)
def list_jobs(
    user: CurrentUser,
    c: ContainerDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    batch_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobsPublic:
    """The caller's jobs, newest first."""
    found, next_cursor = c.generations.jobs(
        user.id, status=status, batch_id=batch_id, cursor=cursor, limit=limit
    )
    return JobsPublic(data=[JobPublic.of(j) for j in found], next_cursor=next_cursor)


@router.get("/jobs/{job_id}", response_model=JobPublic, responses=ERRORS)
def get_job(job_id: str, user: CurrentUser, c: ContainerDep) -> JobPublic:
    """A job with its provider attempts."""
    view = c.generations.job(user.id, job_id)
    return JobPublic.of(view.job, view.attempts)


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobPublic,
    responses={**error_responses(409), **ERRORS},
)
def cancel_job(job_id: str, user: CurrentUser, c: ContainerDep) -> JobPublic:
    """Cancel a job that has not ended."""
    return JobPublic.of(c.generations.cancel(user.id, job_id))


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobPublic,
    responses={**error_responses(409), **ERRORS},
)
def retry_job(job_id: str, user: CurrentUser, c: ContainerDep) -> JobPublic:
    """Run a failed or cancelled job again."""
    return JobPublic.of(c.generations.retry(user.id, job_id))


@router.get(
    "/jobs/{job_id}/events",
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
    response_class=StreamingResponse,
)
async def job_events(
    job_id: str, request: Request, user: CurrentUser, c: ContainerDep
) -> StreamingResponse:
    """Server-sent events: `progress` whenever the job changes, then one `end` event."""
    first = await run_in_threadpool(c.generations.job, user.id, job_id)

    async def stream() -> AsyncIterator[str]:
        view = first
        last = ""
        while True:
            payload = JobPublic.of(view.job).model_dump_json()
            if payload != last:
                last = payload
                yield f"event: progress\ndata: {payload}\n\n"
            if view.job.status.terminal:
                yield f"event: end\ndata: {json.dumps({'status': view.job.status.value})}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_POLL_SECONDS)
            try:
                view = await run_in_threadpool(c.generations.job, user.id, job_id)
            except DomainError:
                return

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
