"""The live jobs page (`/jobs`) and the upload page (`/upload`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from promptcanvas.bootstrap import Container
from promptcanvas.domain.errors import DomainError, NotFound
from promptcanvas.domain.jobs import Job
from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.api.routes.job_events import JobLive, live
from promptcanvas.entrypoints.web.base import PageUser, render
from promptcanvas.services.batches import BatchStatus

router = APIRouter(include_in_schema=False)
PAGE = 50
TEXT_CHARS = 200


@dataclass
class Group:
    """One row of the jobs page: a lone job, or the jobs of one batch with its progress."""

    jobs: list[JobLive] = field(default_factory=list)
    batch: BatchStatus | None = None


def _listed(
    c: Container, user: User, show: str, cursor: str | None
) -> tuple[list[Job], str | None]:
    if show == "active":
        running, _ = c.generations.jobs(user.id, status="RUNNING", limit=200)
        pending, _ = c.generations.jobs(user.id, status="PENDING", limit=200)
        found = sorted(running + pending, key=lambda j: (j.created_at, j.id), reverse=True)
        return found, None
    return c.generations.jobs(user.id, cursor=cursor, limit=PAGE)


def _grouped(c: Container, user: User, jobs: list[Job]) -> list[Group]:
    """Jobs in order, those of one batch together where the batch's newest job is."""
    now = c.clock.now()
    groups: list[Group] = []
    batches: dict[str, Group] = {}
    for job in jobs:
        if job.batch_id is None:
            groups.append(Group([live(job, now)]))
            continue
        group = batches.get(job.batch_id)
        if group is None:
            try:
                status = c.batches.status(user.id, job.batch_id)
            except NotFound:
                status = None
            group = batches[job.batch_id] = Group(batch=status)
            groups.append(group)
        group.jobs.append(live(job, now))
    return groups


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    c: ContainerDep,
    user: PageUser,
    show: str = "all",
    cursor: str | None = None,
) -> HTMLResponse:
    """The live queue: each job's state, progress and ETA; cancel and retry; batches grouped."""
    show = show if show in ("active", "all") else "all"
    cursor = cursor if cursor and len(cursor) <= 512 else None
    try:
        found, next_cursor = _listed(c, user, show, cursor)
    except DomainError:  # a cursor from elsewhere: start again at the newest jobs
        found, next_cursor = _listed(c, user, show, None)
        cursor = None
    return render(
        request,
        c,
        "jobs.html",
        user=user,
        nav="jobs",
        show=show,
        groups=_grouped(c, user, found),
        next_cursor=next_cursor,
        first_page=cursor is None,
        now=c.clock.now(),
    )


@router.get("/upload", response_class=HTMLResponse)
def upload_page(
    request: Request,
    c: ContainerDep,
    user: PageUser,
    prompt: str | None = None,
) -> HTMLResponse:
    """Drop, paste or pick images; each file shows its progress and the server's verdict."""
    attach = None
    if prompt:
        try:
            attach = c.library.get_prompt(user.id, prompt[:64])
        except NotFound:
            return render(request, c, "not_found.html", user=user, status=404)
    text = attach.text if attach else ""
    return render(
        request,
        c,
        "upload.html",
        user=user,
        nav="upload",
        prompt=attach,
        prompt_text=text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…",
        max_bytes=c.settings.max_upload_bytes,
    )
