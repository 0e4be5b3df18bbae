"""/api/v1/prompts: create, list/search, read, edit, revise, lineage, diff, trash, restore."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.routes.similar import semantic_page
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    GenerationPublic,
    LineagePublic,
    PromptCreate,
    PromptDetail,
    PromptDiffPublic,
    PromptPublic,
    PromptsPublic,
    PromptUpdate,
    RevisionCreate,
    error_responses,
)
from promptcanvas.services.library import SearchRequest

router = APIRouter(prefix="/api/v1/prompts", tags=["prompts"], responses=API_ERRORS)
ERRORS = error_responses(404)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.post("", status_code=201, response_model=PromptPublic, responses=ERRORS)
def create_prompt(body: PromptCreate, user: CurrentUser, c: ContainerDep) -> PromptPublic:
    """Store a new prompt."""
    fields = body.model_dump(exclude={"text"})
    return PromptPublic.of(c.library.create_prompt(user.id, text=body.text, **fields))


@router.get("", response_model=PromptsPublic, responses=ERRORS)
def list_prompts(
    user: CurrentUser,
    c: ContainerDep,
    q: Annotated[
        str | None, Query(max_length=500, description="Search words (Korean or English)")
    ] = None,
    tag: Annotated[list[str], Query(description="Has every one of these tags")] = [],  # noqa: B006
    category: Annotated[str | None, Query(max_length=100)] = None,
    project: Annotated[str | None, Query(max_length=64, description="Project id")] = None,
    model: Annotated[
        str | None, Query(max_length=300, description="model or model@version")
    ] = None,
    starred: bool | None = None,
    since: Annotated[
        datetime | None, Query(description="Created at or after (UTC if no zone)")
    ] = None,
    until: Annotated[datetime | None, Query(description="Created before (UTC if no zone)")] = None,
    sort: Literal["relevance", "newest", "oldest"] | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    trashed: bool = False,
    mode: Annotated[
        Literal["keyword", "semantic", "hybrid"],
        Query(description="How q matches: words, meaning (embeddings), or both fused"),
    ] = "keyword",
) -> PromptsPublic:
    """List or search prompts; `next_cursor` fetches the next page (keyword mode)."""
    if mode != "keyword" and q is not None and q.strip():
        found = semantic_page(
            c,
            user.id,
            q,
            mode,
            limit=limit,
            cursor=cursor,
            tags=tag[:20],
            category=category,
            project=project,
            model=model,
            starred=starred,
            since=_utc(since),
            until=_utc(until),
            trashed=trashed,
            sort=sort,
        )
        return PromptsPublic(data=[PromptPublic.of(p) for p in found], next_cursor=None)
    result = c.library.search(
        user.id,
        SearchRequest(
            q=q,
            tags=tuple(tag[:20]),
            category=category,
            project_id=project,
            model=model,
            starred=starred,
            since=_utc(since),
            until=_utc(until),
            sort=sort,
            cursor=cursor,
            limit=limit,
            trashed=trashed,
        ),
    )
    return PromptsPublic(
        data=[PromptPublic.of(p) for p in result.items], next_cursor=result.next_cursor
    )


@router.get("/{prompt_id}", response_model=PromptDetail, responses=ERRORS)
def get_prompt(prompt_id: str, user: CurrentUser, c: ContainerDep) -> PromptDetail:
    """One prompt with all its outputs."""
    prompt, outputs = c.library.prompt_detail(user.id, prompt_id)
    return PromptDetail(
        **PromptPublic.of(prompt).model_dump(),
        outputs=[GenerationPublic.of(o.generation, o.assets) for o in outputs],
    )


@router.patch(
    "/{prompt_id}", response_model=PromptPublic, responses={**ERRORS, **error_responses(409)}
)
def update_prompt(
    prompt_id: str, body: PromptUpdate, user: CurrentUser, c: ContainerDep
) -> PromptPublic:
    """Edit metadata; wording only while the prompt has no outputs (else 409: revise it)."""
    changes = body.model_dump(exclude_unset=True)
    return PromptPublic.of(c.library.update_prompt(user.id, prompt_id, changes))


@router.delete("/{prompt_id}", status_code=204, responses=ERRORS)
def delete_prompt(
    prompt_id: str, user: CurrentUser, c: ContainerDep, purge: bool = False
) -> Response:
    """Move to the trash; with purge=true delete for good."""
    if purge:
        c.library.purge_prompt(user.id, prompt_id)
    else:
        c.library.trash_prompt(user.id, prompt_id)
    return Response(status_code=204)


@router.post("/{prompt_id}/restore", response_model=PromptPublic, responses=ERRORS)
def restore_prompt(prompt_id: str, user: CurrentUser, c: ContainerDep) -> PromptPublic:
    """Take a prompt out of the trash."""
    return PromptPublic.of(c.library.restore_prompt(user.id, prompt_id))


@router.post(
    "/{prompt_id}/revisions",
    status_code=201,
    response_model=PromptPublic,
    responses={**ERRORS, **error_responses(409)},
)
def revise_prompt(
    prompt_id: str, body: RevisionCreate, user: CurrentUser, c: ContainerDep
) -> PromptPublic:
    """Create a child revision; omitted fields are inherited from the parent."""
    changes = body.model_dump(exclude_unset=True)
    return PromptPublic.of(c.library.revise_prompt(user.id, prompt_id, changes))


@router.get("/{prompt_id}/lineage", response_model=LineagePublic, responses=ERRORS)
def prompt_lineage(prompt_id: str, user: CurrentUser, c: ContainerDep) -> LineagePublic:
    """Ancestors (root first), this prompt, then its descendants depth-first."""
    return LineagePublic.of(prompt_id, c.library.lineage(user.id, prompt_id))


@router.get("/{prompt_id}/diff", response_model=PromptDiffPublic, responses=ERRORS)
def prompt_diff(
    prompt_id: str,
    user: CurrentUser,
    c: ContainerDep,
    against: Annotated[str, Query(max_length=64)],
) -> PromptDiffPublic:
    """Word-level diff from `against` (before) to this prompt (after)."""
    return PromptDiffPublic.of(c.library.diff(user.id, prompt_id, against))
