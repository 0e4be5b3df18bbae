"""GET /api/v1/jobs/events: one server-sent event stream over all of the caller's jobs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from promptcanvas.bootstrap import Container
from promptcanvas.domain.jobs import Job, JobStatus
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.job_schemas import JobState
from promptcanvas.entrypoints.api.schemas import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["generations"], responses=API_ERRORS)
log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 600.0  # then the stream ends; EventSource reconnects and gets a new snapshot
SKEW_SECONDS = 2.0  # each tick re-reads this far back, as workers' clocks may lag a little
RECENT = 30  # newest jobs in the snapshot besides the active ones
ACTIVE = 200  # running and pending jobs in the snapshot, each
PAGE = 500
MAX_PER_TICK = 2000
TEXT_CHARS = 160

DESCRIPTION = """\
Server-sent events (`text/event-stream`) over **all** of the caller's jobs; a browser opens it
with `new EventSource("/api/v1/jobs/events")` (the session cookie is enough).

* `snapshot` first: `{"now": ISO time, "jobs": [job, ...]}` with the running and pending jobs
  and the newest ones (recently ended included), newest first;
* then a `job` event with the whole job each time one changes (status, progress, attempts,
  error, a new job); `eta_seconds` estimates the time left from progress and elapsed time;
* a `: keep-alive` comment every 15 s when nothing changed.

The stream ends when the client disconnects, or after 10 minutes (the `retry` field tells
EventSource to reconnect after 3 s and it receives a fresh snapshot). Each tick reads only the
jobs updated since the last one.
"""


class JobLive(BaseModel):
    id: str
    kind: str
    status: JobState
    progress: float
    eta_seconds: float | None
    attempts: int
    max_attempts: int
    error: str | None
    error_kind: str | None
    batch_id: str | None
    prompt_id: str | None
    label: str | None
    provider: str | None
    model: str | None
    model_version: str | None
    generation_ids: list[str]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class JobsSnapshot(BaseModel):
    now: datetime
    jobs: list[JobLive]


def eta_seconds(job: Job, now: datetime) -> float | None:
    """Seconds a running job still needs, from its progress so far; None when unknown."""
    if job.status is not JobStatus.RUNNING or job.started_at is None:
        return None
    if not 0.0 < job.progress < 1.0:
        return None
    elapsed = (now - job.started_at).total_seconds()
    if elapsed <= 0:
        return None
    return round(elapsed * (1.0 - job.progress) / job.progress, 1)


def _label(job: Job) -> str | None:
    payload = job.payload
    if job.kind == "generate":
        text = str(payload.get("text") or "")
        return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"
    if payload.get("name"):
        return str(payload["name"])
    if payload.get("path"):
        return PurePath(str(payload["path"])).name  # the folder's name, not the server's path
    return None


def live(job: Job, now: datetime) -> JobLive:
    """A job as the live queue shows it (no payload internals)."""
    targets: list[dict[str, Any]] = job.payload.get("targets") or []
    target = targets[min(job.target_index, len(targets) - 1)] if targets else {}
    prompt_id = job.payload.get("prompt_id")
    return JobLive(
        id=job.id,
        kind=job.kind,
        status=job.status.value,
        progress=job.progress,
        eta_seconds=eta_seconds(job, now),
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        error=job.error,
        error_kind=job.error_kind,
        batch_id=job.batch_id,
        prompt_id=prompt_id if isinstance(prompt_id, str) else None,
        label=_label(job),
        provider=target.get("provider"),
        model=target.get("model"),
        model_version=target.get("model_version"),
        generation_ids=job.generation_ids,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        updated_at=job.updated_at or job.created_at,
    )


def snapshot_jobs(c: Container, owner_id: str) -> list[Job]:
    """Running and pending jobs plus the newest ones, newest first."""
    found: dict[str, Job] = {}
    for status, limit in (("RUNNING", ACTIVE), ("PENDING", ACTIVE), (None, RECENT)):
        jobs, _ = c.generations.jobs(owner_id, status=status, limit=limit)
        found.update((j.id, j) for j in jobs)
    return sorted(found.values(), key=lambda j: (j.created_at, j.id), reverse=True)


def _changed(c: Container, owner_id: str, after: tuple[datetime, str]) -> list[Job]:
    """Jobs changed after the mark: one query, more only after a burst of changes."""
    found: list[Job] = []
    while len(found) < MAX_PER_TICK:
        page = c.generations.jobs_changed(owner_id, after, PAGE)
        found += page
        if len(page) < PAGE:
            break
        last = page[-1]
        after = (last.updated_at or last.created_at, last.id)
    return found


def _event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"


@router.get(
    "/jobs/events",
    summary="Follow all of your jobs live",
    description=DESCRIPTION,
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "example": 'retry: 3000\n\nevent: snapshot\ndata: {"now": "...", "jobs": []}'
                    '\n\nevent: job\ndata: {"id": "...", "status": "RUNNING", ...}\n\n'
                }
            }
        },
    },
)
async def all_job_events(request: Request, user: CurrentUser, c: ContainerDep) -> StreamingResponse:
    """Server-sent events: a snapshot of the caller's jobs, then each change."""
    start = c.clock.now()
    first = await run_in_threadpool(snapshot_jobs, c, user.id)

    async def stream() -> AsyncIterator[str]:
        sent: dict[str, tuple[datetime, str]] = {}
        newest = start
        for job in first:
            stamp = job.updated_at or job.created_at
            sent[job.id] = (stamp, live(job, start).model_dump_json(exclude={"eta_seconds"}))
            newest = max(newest, stamp)
        body = JobsSnapshot(now=start, jobs=[live(j, start) for j in first])
        yield "retry: 3000\n\n" + _event("snapshot", body.model_dump_json())
        mark = (start - timedelta(seconds=SKEW_SECONDS), "")
        quiet_since = time.monotonic()
        ends = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends:
            await asyncio.sleep(TICK_SECONDS)
            if await request.is_disconnected():
                return
            try:
                changed = await run_in_threadpool(_changed, c, user.id, mark)
            except Exception:  # the database is away: end; EventSource reconnects by itself
                log.exception("the jobs stream of user %s stopped", user.id)
                return
            now = c.clock.now()
            for job in changed:
                view = live(job, now)
                key = view.model_dump_json(exclude={"eta_seconds"})
                if sent.get(job.id, (None, ""))[1] != key:
                    yield _event("job", view.model_dump_json())
                    quiet_since = time.monotonic()
                sent[job.id] = (view.updated_at, key)
                newest = max(newest, view.updated_at)
            if len(changed) >= MAX_PER_TICK:  # a burst: go on exactly where this tick stopped
                last = changed[-1]
                mark = (last.updated_at or last.created_at, last.id)
            else:
                mark = (newest - timedelta(seconds=SKEW_SECONDS), "")
            # What is older than the mark is never read again unless it changes.
            sent = {k: v for k, v in sent.items() if v[0] >= mark[0]}
            if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
