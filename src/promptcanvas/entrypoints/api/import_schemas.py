"""API schemas for imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictBool, StrictStr

from promptcanvas.entrypoints.api.job_schemas import JobState
from promptcanvas.entrypoints.api.schemas import In
from promptcanvas.services.import_jobs import ImportStatus


class ImportCreate(In):
    """A folder on the server, inside one of the configured import roots."""

    path: StrictStr = Field(min_length=1, max_length=4096)
    project_id: StrictStr | None = Field(default=None, max_length=64)
    thumbnails: StrictBool = True


class ImportQueued(BaseModel):
    id: str
    job_id: str
    status: JobState


class ImportPublic(BaseModel):
    id: str
    job_id: str
    status: JobState
    progress: float
    source: dict[str, Any]
    counts: dict[str, int]  # files settled so far by state (imported, duplicate, failed)
    summary: dict[str, Any] | None  # the final summary, once the import has succeeded
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, s: ImportStatus) -> ImportPublic:
        job = s.job
        payload = job.payload
        keys = ("source", "path", "name", "members")
        source: dict[str, Any] = {k: payload[k] for k in keys if k in payload}
        return cls(
            id=job.id,
            job_id=job.id,
            status=job.status.value,
            progress=job.progress,
            source=source,
            counts=s.counts,
            summary=s.summary,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
