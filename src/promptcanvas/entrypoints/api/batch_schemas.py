"""API schemas for batch re-runs, comparisons and grids."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from promptcanvas.domain.jobs import Target
from promptcanvas.entrypoints.api.job_schemas import TargetIn
from promptcanvas.entrypoints.api.schemas import GenerationPublic, In
from promptcanvas.services.batch_views import Pair
from promptcanvas.services.batches import MAX_BATCH, BatchStatus
from promptcanvas.services.compare import (
    DEFAULT_CELL,
    MAX_CELL,
    MAX_GRID_PROMPTS,
    MAX_GRID_TARGETS,
    MIN_CELL,
    Group,
    GroupPair,
    PromptComparison,
)
from promptcanvas.services.similarity import Figures

BatchState = Literal["PENDING", "RUNNING", "SUCCESS", "FAILURE", "CANCELLED"]
Id = Annotated[StrictStr, Field(max_length=64)]


class BatchQuery(In):
    """The prompt search filters (as on GET /api/v1/prompts); every match is re-run."""

    q: StrictStr | None = Field(default=None, max_length=500)
    tags: list[Annotated[StrictStr, Field(max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    category: StrictStr | None = Field(default=None, max_length=100)
    project_id: StrictStr | None = Field(default=None, max_length=64)
    model: StrictStr | None = Field(default=None, max_length=300)
    starred: StrictBool | None = None
    since: datetime | None = None
    until: datetime | None = None


class BatchCreate(In):
    prompt_ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)
    query: BatchQuery | None = None
    target: TargetIn
    params_override: dict[str, Any] = Field(default_factory=dict)
    seeds: Literal["same", "new"] = "same"


class BatchQueued(BaseModel):
    id: str
    total: int
    status: BatchState


class BatchCounts(BaseModel):
    pending: int
    running: int
    done: int
    failed: int
    cancelled: int


class BatchPublic(BaseModel):
    id: str
    status: BatchState
    total: int
    counts: BatchCounts
    progress: float
    eta_seconds: float | None
    target: dict[str, str | None]
    params_override: dict[str, Any]
    seeds: Literal["same", "new"]
    query: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, s: BatchStatus) -> BatchPublic:
        b = s.batch
        c = s.counts
        return cls(
            id=b.id,
            status=s.status,  # type: ignore[arg-type]
            total=b.total,
            counts=BatchCounts(
                pending=c.pending,
                running=c.running,
                done=c.done,
                failed=c.failed,
                cancelled=c.cancelled,
            ),
            progress=s.progress,
            eta_seconds=s.eta_seconds,
            target=Target(b.provider, b.model, b.model_version).as_dict(),
            params_override=b.params_override,
            seeds=b.seeds,  # type: ignore[arg-type]
            query=b.query,
            created_at=b.created_at,
            started_at=s.started_at,
            cancelled_at=b.cancelled_at,
        )


class FiguresPublic(BaseModel):
    phash_distance: int | None = Field(description="Hamming distance of 64-bit pHashes, 0..64")
    colour_distance: float | None = Field(
        description="Hellinger/Bhattacharyya distance of 8x8x8 RGB histograms, 0..1"
    )
    bytes_before: int
    bytes_after: int
    bytes_delta: int
    dimensions_before: str | None
    dimensions_after: str | None
    latency_delta_ms: int | None
    cost_delta: float | None

    @classmethod
    def of(cls, f: Figures) -> FiguresPublic:
        return cls(**f.__dict__)


class PairPublic(BaseModel):
    prompt_id: str
    text: str
    before: GenerationPublic | None
    after: GenerationPublic
    figures: FiguresPublic | None

    @classmethod
    def of(cls, p: Pair) -> PairPublic:
        return cls(
            prompt_id=p.prompt_id,
            text=p.text,
            before=GenerationPublic.of(p.before.generation, p.before.assets) if p.before else None,
            after=GenerationPublic.of(p.after.generation, p.after.assets),
            figures=FiguresPublic.of(p.figures) if p.figures else None,
        )


class PairsPublic(BaseModel):
    data: list[PairPublic]
    next_cursor: str | None


class GroupPublic(BaseModel):
    provider: str
    model: str
    model_version: str | None
    label: str
    count: int
    succeeded: int
    mean_latency_ms: float | None
    total_cost: float | None
    mean_bytes: float | None
    generations: list[GenerationPublic]

    @classmethod
    def of(cls, g: Group) -> GroupPublic:
        return cls(
            provider=g.target.provider,
            model=g.target.model,
            model_version=g.target.version,
            label=str(g.target),
            count=len(g.outputs),
            succeeded=g.succeeded,
            mean_latency_ms=g.mean_latency_ms,
            total_cost=g.total_cost,
            mean_bytes=g.mean_bytes,
            generations=[GenerationPublic.of(o.generation, o.assets) for o in g.outputs],
        )


class GroupPairPublic(BaseModel):
    before: str
    after: str
    matched_by: Literal["seed", "first"] | None
    compared: int
    mean_phash_distance: float | None
    mean_colour_distance: float | None
    mean_bytes_delta: float | None
    mean_latency_delta_ms: float | None
    total_cost_delta: float | None

    @classmethod
    def of(cls, p: GroupPair) -> GroupPairPublic:
        return cls(
            **{**p.__dict__, "before": str(p.before), "after": str(p.after)},
        )


class PromptComparePublic(BaseModel):
    prompt_id: str
    text: str
    groups: list[GroupPublic]
    pairs: list[GroupPairPublic]

    @classmethod
    def of(cls, c: PromptComparison) -> PromptComparePublic:
        return cls(
            prompt_id=c.prompt.id,
            text=c.prompt.text,
            groups=[GroupPublic.of(g) for g in c.groups],
            pairs=[GroupPairPublic.of(p) for p in c.pairs],
        )


class GridCreate(In):
    prompt_ids: list[Id] = Field(min_length=1, max_length=MAX_GRID_PROMPTS)
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_GRID_TARGETS)
    cell_size: StrictInt = Field(default=DEFAULT_CELL, ge=MIN_CELL, le=MAX_CELL)
