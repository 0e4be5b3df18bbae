"""POST /api/v1/recommendations: past prompts most useful for a new request."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    AssetPublic,
    PromptPublic,
)
from promptcanvas.services.recommend import DEFAULT_K, MAX_K, MAX_TEXT, Recommendation

router = APIRouter(prefix="/api/v1", tags=["recommendations"], responses=API_ERRORS)


class RecommendationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="Korean or English")
    k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)


class RecommendationPublic(BaseModel):
    prompt: PromptPublic
    score: float  # what the list is sorted by
    relevance: float  # 0..1 against the most relevant candidate
    rating: int | None
    starred: bool
    outputs: int
    last_used_at: datetime | None
    assets: list[AssetPublic]  # a few of its outputs, newest first

    @classmethod
    def of(cls, r: Recommendation) -> RecommendationPublic:
        return cls(
            prompt=PromptPublic.of(r.prompt),
            score=r.score,
            relevance=r.relevance,
            rating=r.prompt.rating,
            starred=r.prompt.starred,
            outputs=r.outputs,
            last_used_at=r.last_used_at,
            assets=[AssetPublic.of(a) for a in r.assets],
        )


class RecommendationsPublic(BaseModel):
    text: str
    english: str | None  # the English the request was also searched in (Korean requests)
    data: list[RecommendationPublic]


@router.post("/recommendations", response_model=RecommendationsPublic)
def recommend(
    body: RecommendationRequest, user: CurrentUser, c: ContainerDep
) -> RecommendationsPublic:
    """Past prompts ranked for a new request, with their ratings and outcomes."""
    found = c.recommender.recommend(user.id, body.text, body.k)
    return RecommendationsPublic(
        text=found.text,
        english=found.english,
        data=[RecommendationPublic.of(r) for r in found.items],
    )
