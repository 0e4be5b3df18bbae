"""/api/v1/batches, prompt comparisons and grids: re-run many prompts and look at the change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from promptcanvas.domain.jobs import Target
from promptcanvas.entrypoints.api.batch_schemas import (
    BatchCreate,
    BatchPublic,
    BatchQueued,
    GridCreate,
    PairPublic,
    PairsPublic,
    PromptComparePublic,
)
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    AssetPublic,
    error_responses,
)
from promptcanvas.services.batches import MAX_BATCH, BatchRequest
from promptcanvas.services.library import SearchRequest

router = APIRouter(prefix="/api/v1", tags=["batches"], responses=API_ERRORS)
ERRORS = error_responses(404)
CONFLICT: dict[int | str, dict[str, object]] = {**error_responses(409), **ERRORS}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.post("/batches", status_code=202, response_model=BatchQueued, responses=CONFLICT)
def create_batch(
    body: BatchCreate, response: Response, user: CurrentUser, c: ContainerDep
) -> BatchQueued:
    """Re-run prompts (by id, or every match of a query) on a provider/model/version."""
    query = None
    if body.query is not None:
        q = body.query
        query = SearchRequest(
            q=q.q,
            tags=tuple(q.tags),
            category=q.category,
            project_id=q.project_id,
            model=q.model,
            starred=q.starred,
            since=_utc(q.since),
            until=_utc(q.until),
        )
    batch = c.batches.create(
        user.id,
        BatchRequest(
            target=Target(body.target.provider, body.target.model, body.target.model_version),
            prompt_ids=tuple(body.prompt_ids) if body.prompt_ids is not None else None,
            query=query,
            params_override=body.params_override,
            seeds=body.seeds,
        ),
    )
    response.headers["Location"] = f"/api/v1/batches/{batch.id}"
    return BatchQueued(id=batch.id, total=batch.total, status="PENDING")


@router.get("/batches/{batch_id}", response_model=BatchPublic, responses=ERRORS)
def get_batch(batch_id: str, user: CurrentUser, c: ContainerDep) -> BatchPublic:
    """Progress: counts per state, fraction done, ETA from the throughput so far."""
    return BatchPublic.of(c.batches.status(user.id, batch_id))


@router.post("/batches/{batch_id}/cancel", response_model=BatchPublic, responses=CONFLICT)
def cancel_batch(batch_id: str, user: CurrentUser, c: ContainerDep) -> BatchPublic:
    """Cancel the batch's unfinished jobs."""
    return BatchPublic.of(c.batches.cancel(user.id, batch_id))


@router.post("/batches/{batch_id}/retry", response_model=BatchPublic, responses=CONFLICT)
def retry_batch(batch_id: str, user: CurrentUser, c: ContainerDep) -> BatchPublic:
    """Run the batch's failed and cancelled jobs again."""
    return BatchPublic.of(c.batches.retry_failed(user.id, batch_id))


@router.get("/batches/{batch_id}/compare", response_model=PairsPublic, responses=ERRORS)
def compare_batch(
    batch_id: str,
    user: CurrentUser,
    c: ContainerDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_BATCH)] = 1000,
) -> PairsPublic:
    """Before and after of every prompt of the batch, with distance figures."""
    pairs, next_cursor = c.batches.compare(user.id, batch_id, cursor=cursor, limit=limit)
    return PairsPublic(data=[PairPublic.of(p) for p in pairs], next_cursor=next_cursor)


@router.get("/prompts/{prompt_id}/compare", response_model=PromptComparePublic, responses=ERRORS)
def compare_prompt(prompt_id: str, user: CurrentUser, c: ContainerDep) -> PromptComparePublic:
    """A prompt's outputs grouped by provider/model/version, neighbouring groups compared."""
    return PromptComparePublic.of(c.compare.prompt_compare(user.id, prompt_id))


@router.post(
    "/grids",
    status_code=201,
    response_model=AssetPublic,
    responses={**error_responses(503, 507), **ERRORS},
)
def create_grid(body: GridCreate, user: CurrentUser, c: ContainerDep) -> AssetPublic:
    """A labelled PNG grid: rows are prompts, columns are targets (X/Y plot)."""
    asset = c.compare.grid(
        user.id,
        list(body.prompt_ids),
        [Target(t.provider, t.model, t.model_version) for t in body.targets],
        body.cell_size,
    )
    return AssetPublic.of(asset)
