"""API schemas of the outputs listing and its batch actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictStr

from promptcanvas.entrypoints.api.schemas import In
from promptcanvas.ports.gallery import Output
from promptcanvas.services.gallery import MAX_IDS

Id = Annotated[StrictStr, Field(max_length=64)]
Tag = Annotated[StrictStr, Field(max_length=100)]


class OutputPublic(BaseModel):
    """One asset of one generation, with its prompt's caption and labels."""

    generation_id: str
    asset_id: str
    prompt_id: str
    prompt_text: str = Field(description="The prompt, cut to 300 characters (caption, alt text)")
    provider: str
    model: str | None
    model_version: str | None
    seed: int | None
    width: int | None
    height: int | None
    media_type: str
    created_at: datetime
    starred: bool
    rating: int | None
    tags: list[str]
    category: str | None
    project_id: str | None
    trashed_at: datetime | None
    collapsed_count: int = Field(description="How many outputs this item stands for (collapse)")
    collapsed_generation_ids: list[str]
    thumbnail_url: str
    url: str

    @classmethod
    def of(cls, o: Output) -> OutputPublic:
        """The public view of an output."""
        return cls(
            generation_id=o.generation_id,
            asset_id=o.asset_id,
            prompt_id=o.prompt_id,
            prompt_text=o.prompt_text,
            provider=o.provider,
            model=o.model,
            model_version=o.model_version,
            seed=o.seed,
            width=o.width,
            height=o.height,
            media_type=o.media_type,
            created_at=o.created_at,
            starred=o.starred,
            rating=o.rating,
            tags=o.tags,
            category=o.category,
            project_id=o.project_id,
            trashed_at=o.trashed_at,
            collapsed_count=1 + len(o.collapsed),
            collapsed_generation_ids=o.collapsed,
            thumbnail_url=f"/api/v1/assets/{o.asset_id}/thumbnail",
            url=f"/api/v1/assets/{o.asset_id}/content",
        )


class OutputsPublic(BaseModel):
    data: list[OutputPublic]
    next_cursor: str | None
    sort: str


class OutputIds(In):
    generation_ids: list[Id] = Field(min_length=1, max_length=MAX_IDS)


class OutputTags(In):
    generation_ids: list[Id] = Field(min_length=1, max_length=MAX_IDS)
    add: list[Tag] = Field(default_factory=list, max_length=64)
    remove: list[Tag] = Field(default_factory=list, max_length=64)


class OutputsChanged(BaseModel):
    changed: int = Field(description="How many generations (trash) or prompts (tags) changed")
