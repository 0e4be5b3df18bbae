"""API schemas (separate from domain objects): *Create / *Update in, *Public out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.diff import TextDiff, render_inline
from promptcanvas.domain.projects import Project
from promptcanvas.domain.prompts import MAX_TEXT, Prompt, PromptDiff
from promptcanvas.ports.repositories import LabelCount, LineageNode

Text = Field(max_length=MAX_TEXT)


class In(BaseModel):
    """Request bodies reject unknown fields and wrong types."""

    model_config = ConfigDict(extra="forbid")


class PromptCreate(In):
    text: StrictStr = Field(min_length=1, max_length=MAX_TEXT)
    negative_text: StrictStr = Field(default="", max_length=MAX_TEXT)
    category: StrictStr | None = Field(default=None, max_length=100)
    tags: list[StrictStr] = Field(default_factory=list, max_length=64)
    language: StrictStr | None = Field(default=None, max_length=35)
    starred: StrictBool = False
    rating: StrictInt | None = Field(default=None, ge=0, le=5)
    author: StrictStr | None = Field(default=None, max_length=200)
    project_id: StrictStr | None = Field(default=None, max_length=64)
    note: StrictStr | None = Field(default=None, max_length=2000)


class PromptUpdate(In):
    text: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    negative_text: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    category: StrictStr | None = Field(default=None, max_length=100)
    tags: list[StrictStr] | None = Field(default=None, max_length=64)
    language: StrictStr | None = Field(default=None, max_length=35)
    starred: StrictBool | None = None
    rating: StrictInt | None = Field(default=None, ge=0, le=5)
    author: StrictStr | None = Field(default=None, max_length=200)
    project_id: StrictStr | None = Field(default=None, max_length=64)
    note: StrictStr | None = Field(default=None, max_length=2000)


class RevisionCreate(In):
    text: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    negative_text: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    category: StrictStr | None = Field(default=None, max_length=100)
    tags: list[StrictStr] | None = Field(default=None, max_length=64)
    language: StrictStr | None = Field(default=None, max_length=35)
    author: StrictStr | None = Field(default=None, max_length=200)
    note: StrictStr | None = Field(default=None, max_length=2000)


class PromptPublic(BaseModel):
    id: str
    text: str
    negative_text: str
    category: str | None
    tags: list[str]
    language: str
    starred: bool
    rating: int | None
    author: str | None
    project_id: str | None
    parent_id: str | None
    note: str | None
    output_count: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @classmethod
    def of(cls, p: Prompt) -> PromptPublic:
        return cls(
            id=p.id,
            text=p.text,
            negative_text=p.negative_text,
            category=p.category,
            tags=p.tags,
            language=p.language,
            starred=p.starred,
            rating=p.rating,
            author=p.author,
            project_id=p.project_id,
            parent_id=p.parent_id,
            note=p.note,
            output_count=p.output_count,
            created_at=p.created_at,
            updated_at=p.updated_at,
            deleted_at=p.deleted_at,
        )


class PromptsPublic(BaseModel):
    data: list[PromptPublic]
    next_cursor: str | None


class AssetPublic(BaseModel):
    id: str
    sha256: str
    media_type: str
    size: int
    width: int | None
    height: int | None
    original_name: str | None
    created_at: datetime
    url: str
    thumbnail_url: str | None

    @classmethod
    def of(cls, a: Asset) -> AssetPublic:
        base = f"/api/v1/assets/{a.id}"
        return cls(
            id=a.id,
            sha256=a.sha256,
            media_type=a.media_type,
            size=a.size,
            width=a.width,
            height=a.height,
            original_name=a.original_name,
            created_at=a.created_at,
            url=f"{base}/content",
            thumbnail_url=f"{base}/thumbnail" if a.thumbnail_key else None,
        )


class AssetUploaded(AssetPublic):
    created: bool
    generation_id: str | None


class GenerationPublic(BaseModel):
    id: str
    prompt_id: str
    provider: str
    model: str | None
    model_version: str | None
    parameters: dict[str, Any]
    seed: int | None
    status: str
    cost: float | None
    latency_ms: int | None
    created_at: datetime
    finished_at: datetime | None = None
    job_id: str | None = None
    batch_id: str | None = None
    source_generation_id: str | None = None
    error: str | None = None
    cached_from: str | None = None
    fallback_from: str | None = None
    revised_prompt: str | None = None
    usage: dict[str, Any] | None = None
    assets: list[AssetPublic]

    @classmethod
    def of(cls, g: Generation, assets: list[Asset]) -> GenerationPublic:
        return cls(
            id=g.id,
            prompt_id=g.prompt_id,
            provider=g.provider,
            model=g.model,
            model_version=g.model_version,
            parameters=g.parameters,
            seed=g.seed,
            status=g.status,
            cost=g.cost,
            latency_ms=g.latency_ms,
            created_at=g.created_at,
            finished_at=g.finished_at,
            job_id=g.job_id,
            batch_id=g.batch_id,
            source_generation_id=g.source_generation_id,
            error=g.error,
            cached_from=g.cached_from,
            fallback_from=g.fallback_from,
            revised_prompt=g.revised_prompt,
            usage=g.usage,
            assets=[AssetPublic.of(a) for a in assets],
        )


class PromptDetail(PromptPublic):
    outputs: list[GenerationPublic]


class LineageNodePublic(PromptPublic):
    depth: int
    is_current: bool


class LineagePublic(BaseModel):
    prompt_id: str
    root_id: str
    data: list[LineageNodePublic]

    @classmethod
    def of(cls, prompt_id: str, nodes: list[LineageNode]) -> LineagePublic:
        return cls(
            prompt_id=prompt_id,
            root_id=nodes[0].prompt.id,
            data=[
                LineageNodePublic(
                    **PromptPublic.of(n.prompt).model_dump(),
                    depth=n.depth,
                    is_current=n.prompt.id == prompt_id,
                )
                for n in nodes
            ],
        )


class DiffOpPublic(BaseModel):
    op: Literal["equal", "insert", "delete", "replace"]
    a: str
    b: str


class TextDiffPublic(BaseModel):
    ops: list[DiffOpPublic]
    unified: str
    inline: str
    inserted_words: int
    deleted_words: int
    identical: bool

    @classmethod
    def of(cls, d: TextDiff) -> TextDiffPublic:
        return cls(
            ops=[DiffOpPublic(op=o.op, a=o.a, b=o.b) for o in d.ops],
            unified=d.unified,
            inline=render_inline(d.ops),
            inserted_words=d.inserted_words,
            deleted_words=d.deleted_words,
            identical=d.identical,
        )


class CategoryDiff(BaseModel):
    before: str | None
    after: str | None
    changed: bool


class TagsDiff(BaseModel):
    added: list[str]
    removed: list[str]
    kept: list[str]


class PromptDiffPublic(BaseModel):
    from_id: str
    to_id: str
    identical: bool
    text: TextDiffPublic
    negative_text: TextDiffPublic
    category: CategoryDiff
    tags: TagsDiff

    @classmethod
    def of(cls, d: PromptDiff) -> PromptDiffPublic:
        return cls(
            from_id=d.from_id,
            to_id=d.to_id,
            identical=d.identical,
            text=TextDiffPublic.of(d.text),
            negative_text=TextDiffPublic.of(d.negative_text),
            category=CategoryDiff(
                before=d.category_from,
                after=d.category_to,
                changed=d.category_from != d.category_to,
            ),
            tags=TagsDiff(
                added=list(d.tags_added), removed=list(d.tags_removed), kept=list(d.tags_kept)
            ),
        )


class ProjectCreate(In):
    name: StrictStr = Field(min_length=1, max_length=200)
    description: StrictStr | None = Field(default=None, max_length=4000)


class ProjectPublic(BaseModel):
    id: str
    name: str
    description: str | None
    created_at: datetime
    prompt_count: int

    @classmethod
    def of(cls, p: Project) -> ProjectPublic:
        return cls(
            id=p.id,
            name=p.name,
            description=p.description,
            created_at=p.created_at,
            prompt_count=p.prompt_count,
        )


class ProjectsPublic(BaseModel):
    data: list[ProjectPublic]


class LabelCountPublic(BaseModel):
    name: str
    count: int

    @classmethod
    def of(cls, c: LabelCount) -> LabelCountPublic:
        return cls(name=c.label, count=c.count)


class LabelsPublic(BaseModel):
    data: list[LabelCountPublic]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorPublic(BaseModel):
    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "Malformed request: a body that is not JSON, a cursor that is not ours",
    401: "No API key or session, or one that is not valid",
    403: "A browser session's state-changing request without its CSRF token",
    404: "No such object of yours",
    409: "The object's state does not allow this",
    413: "The request body or the result is too large",
    415: "A file of a kind that is not accepted",
    422: "Invalid input; the details name each field",
    429: "Over the caller's request rate; see Retry-After",
    503: "The database or the file store is unavailable; nothing was changed",
    507: "The file store is full; nothing was stored",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting the error body for each of these status codes."""
    return {c: {"model": ErrorPublic, "description": ERROR_DESCRIPTIONS[c]} for c in codes}


# What any /api/v1 route can answer: routers pass it as `responses=`, routes add their own.
API_ERRORS = error_responses(400, 401, 422, 429, 503)


class InfoPublic(BaseModel):
    name: str
    version: str
    mode: Literal["embedded", "scaled"]
    database: str
    storage: str
    providers: list[dict[str, Any]]
    limits: dict[str, int]
