"""API schemas of portfolios: *Create / *Update in, *Public out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictStr

from promptcanvas.domain.portfolios import MAX_CAPTION, MAX_DESCRIPTION, MAX_ITEMS, MAX_TITLE
from promptcanvas.entrypoints.api.schemas import In
from promptcanvas.ports.portfolios import ItemView, PortfolioSummary
from promptcanvas.services.portfolios import PortfolioDetail

Id = Annotated[StrictStr, Field(max_length=64)]


def _thumb(asset_id: str | None) -> str | None:
    return f"/api/v1/assets/{asset_id}/thumbnail" if asset_id else None


class PortfolioCreate(In):
    title: StrictStr = Field(min_length=1, max_length=MAX_TITLE * 2)
    description: StrictStr | None = Field(default=None, max_length=MAX_DESCRIPTION)
    project_id: StrictStr | None = Field(default=None, max_length=64)
    prompt_ids: list[Id] | None = Field(default=None, max_length=MAX_ITEMS)
    generation_ids: list[Id] | None = Field(default=None, max_length=MAX_ITEMS)
    public: StrictBool = False


class ItemUpdate(In):
    asset_id: StrictStr = Field(min_length=1, max_length=64)
    caption: StrictStr | None = Field(default=None, max_length=MAX_CAPTION)


class PortfolioUpdate(In):
    title: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_TITLE * 2)
    description: StrictStr | None = Field(default=None, max_length=MAX_DESCRIPTION)
    cover_asset_id: StrictStr | None = Field(default=None, max_length=64)
    items: list[ItemUpdate] | None = Field(default=None, max_length=MAX_ITEMS)


class ItemsAdd(In):
    generation_ids: list[Id] = Field(min_length=1, max_length=MAX_ITEMS)


class PortfolioSummaryPublic(BaseModel):
    id: str
    title: str
    description: str
    project_id: str | None
    item_count: int
    cover_asset_id: str | None
    thumbnail_url: str | None
    published: bool
    share_url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: PortfolioSummary, share_url: str | None) -> PortfolioSummaryPublic:
        return cls(
            id=s.id,
            title=s.title,
            description=s.description,
            project_id=s.project_id,
            item_count=s.item_count,
            cover_asset_id=s.cover_asset_id,
            thumbnail_url=_thumb(s.cover_asset_id),
            published=s.share_token is not None,
            share_url=share_url,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )


class PortfoliosPublic(BaseModel):
    data: list[PortfolioSummaryPublic]
    next_cursor: str | None


class PortfolioItemPublic(BaseModel):
    asset_id: str
    generation_id: str | None
    prompt_id: str | None
    prompt_text: str | None
    caption: str
    position: int
    media_type: str
    width: int | None
    height: int | None
    in_trash: bool
    thumbnail_url: str
    url: str

    @classmethod
    def of(cls, i: ItemView) -> PortfolioItemPublic:
        return cls(
            asset_id=i.asset_id,
            generation_id=i.generation_id,
            prompt_id=i.prompt_id,
            prompt_text=i.prompt_text,
            caption=i.caption,
            position=i.position,
            media_type=i.media_type,
            width=i.width,
            height=i.height,
            in_trash=i.hidden,
            thumbnail_url=f"/api/v1/assets/{i.asset_id}/thumbnail",
            url=f"/api/v1/assets/{i.asset_id}/content",
        )


class PortfolioPublic(BaseModel):
    id: str
    title: str
    description: str
    project_id: str | None
    item_count: int
    cover_asset_id: str | None
    thumbnail_url: str | None
    published: bool
    share_url: str | None
    created_at: datetime
    updated_at: datetime
    items: list[PortfolioItemPublic]

    @classmethod
    def of(cls, d: PortfolioDetail, share_url: str | None) -> PortfolioPublic:
        p = d.portfolio
        cover = p.cover_asset_id or (d.items[0].asset_id if d.items else None)
        return cls(
            id=p.id,
            title=p.title,
            description=p.description,
            project_id=p.project_id,
            item_count=len(d.items),
            cover_asset_id=cover,
            thumbnail_url=_thumb(cover),
            published=p.published,
            share_url=share_url,
            created_at=p.created_at,
            updated_at=p.updated_at,
            items=[PortfolioItemPublic.of(i) for i in d.items],
        )
