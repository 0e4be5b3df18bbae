"""/api/v1/prompts/{id}/similar and /api/v1/assets/{id}/similar: more like this."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from promptcanvas.bootstrap import Container
from promptcanvas.domain.errors import BadRequest, InvalidInput
from promptcanvas.domain.prompts import Prompt
from promptcanvas.domain.text import normalize_label
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    AssetPublic,
    PromptPublic,
    error_responses,
)
from promptcanvas.ports.semantic import Filters

router = APIRouter(prefix="/api/v1", tags=["similar"], responses=API_ERRORS)
ERRORS = error_responses(404)


class SimilarPromptPublic(PromptPublic):
    score: float  # cosine similarity of the prompts' embeddings


class SimilarPromptsPublic(BaseModel):
    data: list[SimilarPromptPublic]


class SimilarAssetPublic(AssetPublic):
    score: float
    reason: Literal["near_duplicate", "same_prompt", "similar_prompt"]
    distance: int | None  # perceptual-hash bits that differ (near duplicates)
    prompt_id: str | None  # the similar prompt it was made from


class SimilarAssetsPublic(BaseModel):
    data: list[SimilarAssetPublic]


@router.get("/prompts/{prompt_id}/similar", response_model=SimilarPromptsPublic, responses=ERRORS)
def similar_prompts(
    prompt_id: str,
    user: CurrentUser,
    c: ContainerDep,
    k: Annotated[int, Query(ge=1, le=200)] = 10,
) -> SimilarPromptsPublic:
    """The caller's prompts most like this one (itself excluded), best first."""
    found = c.semantic.similar_prompt_objects(user.id, prompt_id, k)
    return SimilarPromptsPublic(
        data=[
            SimilarPromptPublic(**PromptPublic.of(p).model_dump(), score=round(score, 4))
            for p, score in found
        ]
    )


@router.get("/assets/{asset_id}/similar", response_model=SimilarAssetsPublic, responses=ERRORS)
def similar_assets(
    asset_id: str,
    user: CurrentUser,
    c: ContainerDep,
    k: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SimilarAssetsPublic:
    """Near-identical pictures first, then outputs of the same prompt and of similar prompts."""
    found = c.semantic.similar_assets(user.id, asset_id, k)
    return SimilarAssetsPublic(
        data=[
            SimilarAssetPublic(
                **AssetPublic.of(s.asset).model_dump(),
                score=s.score,
                reason=s.reason,
                distance=s.distance,
                prompt_id=s.prompt_id,
            )
            for s in found
        ]
    )


def semantic_page(
    c: Container,
    owner_id: str,
    q: str,
    mode: Literal["semantic", "hybrid"],
    *,
    limit: int,
    cursor: str | None,
    tags: list[str],
    category: str | None,
    project: str | None,
    model: str | None,
    starred: bool | None,
    since: datetime | None,
    until: datetime | None,
    trashed: bool,
    sort: str | None,
) -> list[Prompt]:
    """GET /api/v1/prompts?mode=semantic|hybrid: one ranked page (no cursor), filters applied."""
    if cursor is not None:
        raise BadRequest(f"{mode} results come in one page; cursors page keyword mode only")
    if sort not in (None, "relevance"):
        raise InvalidInput(f"{mode} results are ranked by relevance", {"field": "sort"})
    if "\x00" in q:
        raise InvalidInput("q must not contain NUL characters", {"field": "q"})
    name, _, version = (model or "").partition("@")
    filters = Filters(
        tags=tuple(t for t in (normalize_label(x) for x in tags) if t),
        category=normalize_label(category) if category else None,
        project_id=project,
        model=name or None,
        model_version=version or None,
        starred=starred,
        since=since,
        until=until,
        trashed=trashed,
    )
    found = c.semantic.search_prompts(owner_id, q, k=limit, mode=mode, filters=filters)
    return [p for p, _ in found]
