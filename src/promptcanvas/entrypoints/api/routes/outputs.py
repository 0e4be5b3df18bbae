"""/api/v1/outputs: the gallery's listing (one item per asset of a generation) and batch edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from promptcanvas.domain.errors import InvalidInput
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.output_schemas import (
    OutputIds,
    OutputPublic,
    OutputsChanged,
    OutputsPublic,
    OutputTags,
)
from promptcanvas.entrypoints.api.schemas import API_ERRORS, error_responses
from promptcanvas.services.gallery import DEFAULT_LIMIT, MAX_LIMIT, OutputFilters

router = APIRouter(prefix="/api/v1/outputs", tags=["outputs"], responses=API_ERRORS)
ERRORS = error_responses(404)
Label = Annotated[str | None, Query(max_length=300)]


def parse_when(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """An ISO date (a whole UTC day; `end` means the day after it) or date-time (UTC if bare)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(), UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{field} must be a date (YYYY-MM-DD) or an ISO 8601 date-time", {"field": field}
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@router.get("", response_model=OutputsPublic, responses=ERRORS)
def list_outputs(
    user: CurrentUser,
    c: ContainerDep,
    q: Annotated[
        str | None, Query(max_length=500, description="Search (Korean or English), hybrid")
    ] = None,
    tag: Label = None,
    category: Label = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    provider: Label = None,
    model: Label = None,
    model_version: Label = None,
    since: Annotated[
        str | None, Query(max_length=40, description="Made at or after (date or date-time)")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=40, description="Made before (a date counts whole)")
    ] = None,
    starred: bool | None = None,
    trashed: Annotated[bool, Query(description="List the trash instead")] = False,
    sort: Literal["newest", "oldest", "rating", "relevance"] | None = None,
    collapse: Annotated[
        Literal["near"] | None, Query(description="Fold near-identical pictures (pHash)")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> OutputsPublic:
    """The owner's outputs, newest first (best match first when searching), a page at a time."""
    filters = OutputFilters(
        q=q,
        tag=tag or None,
        category=category or None,
        project_id=project_id or None,
        provider=provider or None,
        model=model or None,
        model_version=model_version or None,
        since=parse_when(since, "since"),
        until=parse_when(until, "until", end=True),
        starred=starred,
        trashed=trashed,
        sort=sort,
        collapse=collapse,
    )
    page = c.gallery.list_outputs(user.id, filters, cursor=cursor, limit=limit)
    return OutputsPublic(
        data=[OutputPublic.of(o) for o in page.items], next_cursor=page.next_cursor, sort=page.sort
    )


@router.post("/trash", response_model=OutputsChanged, responses=ERRORS)
def trash_outputs(body: OutputIds, user: CurrentUser, c: ContainerDep) -> OutputsChanged:
    """Move these generations to the trash; any id not yours: 404 and nothing changes."""
    return OutputsChanged(changed=c.gallery.trash(user.id, body.generation_ids))


@router.post("/restore", response_model=OutputsChanged, responses=ERRORS)
def restore_outputs(body: OutputIds, user: CurrentUser, c: ContainerDep) -> OutputsChanged:
    """Take these generations out of the trash; any id not yours: 404 and nothing changes."""
    return OutputsChanged(changed=c.gallery.restore(user.id, body.generation_ids))


@router.post("/tags", response_model=OutputsChanged, responses={**ERRORS, **error_responses(409)})
def tag_outputs(body: OutputTags, user: CurrentUser, c: ContainerDep) -> OutputsChanged:
    """Add and remove tags on the prompts behind these outputs (all or nothing)."""
    changed = c.gallery.retag(user.id, body.generation_ids, body.add, body.remove)
    return OutputsChanged(changed=len(changed))
