"""API schemas for generations, jobs and batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from promptcanvas.domain.jobs import Job
from promptcanvas.domain.prompts import MAX_TEXT
from promptcanvas.entrypoints.api.schemas import In
from promptcanvas.ports.jobs import Attempt

JobState = Literal["PENDING", "RUNNING", "SUCCESS", "FAILURE", "CANCELLED"]


class TargetIn(In):
    provider: StrictStr = Field(min_length=1, max_length=100)
    model: StrictStr = Field(min_length=1, max_length=200)
    model_version: StrictStr | None = Field(default=None, max_length=100)


class GenerationCreate(In):
    prompt_id: StrictStr | None = Field(default=None, max_length=64)
    text: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    negative_text: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    project_id: StrictStr | None = Field(default=None, max_length=64)
    provider: StrictStr = Field(default="local", min_length=1, max_length=100)
    model: StrictStr = Field(default="sketch", min_length=1, max_length=200)
    model_version: StrictStr | None = Field(default=None, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)
    seed: StrictInt | None = None
    n: StrictInt = 1
    idempotency_key: StrictStr | None = Field(default=None, max_length=200)
    fallback: list[TargetIn] = Field(default_factory=list, max_length=3)
    cache: StrictBool | None = None
    priority: StrictInt = Field(default=0, ge=-100, le=100)


class GenerationQueued(BaseModel):
    job_id: str
    generation_ids: list[str]
    status: JobState
    created: bool


class AttemptPublic(BaseModel):
    attempt: int
    provider: str
    model: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    message: str | None

    @classmethod
    def of(cls, a: Attempt) -> AttemptPublic:
        return cls(
            attempt=a.attempt,
            provider=a.provider,
            model=a.model,
            started_at=a.started_at,
            finished_at=a.finished_at,
            outcome=a.outcome,
            message=a.message,
        )


class JobPublic(BaseModel):
    id: str
    kind: str
    status: JobState
    progress: float
    attempts: int
    max_attempts: int
    error: str | None
    error_kind: str | None
    batch_id: str | None
    priority: int
    generation_ids: list[str]
    targets: list[dict[str, Any]]
    target_index: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_after: datetime
    result: dict[str, Any] | None
    attempt_log: list[AttemptPublic] | None = None

    @classmethod
    def of(cls, j: Job, attempts: list[Attempt] | None = None) -> JobPublic:
        return cls(
            id=j.id,
            kind=j.kind,
            status=j.status.value,
            progress=j.progress,
            attempts=j.attempts,
            max_attempts=j.max_attempts,
            error=j.error,
            error_kind=j.error_kind,
            batch_id=j.batch_id,
            priority=j.priority,
            generation_ids=j.generation_ids,
            targets=[
                {k: t.get(k) for k in ("provider", "model", "model_version")}
                for t in j.payload.get("targets", [])
            ],
            target_index=j.target_index,
            created_at=j.created_at,
            started_at=j.started_at,
            finished_at=j.finished_at,
            run_after=j.run_after,
            result=j.result,
            attempt_log=None if attempts is None else [AttemptPublic.of(a) for a in attempts],
        )


class JobsPublic(BaseModel):
    data: list[JobPublic]
    next_cursor: str | None
