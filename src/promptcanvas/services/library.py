"""The prompt library: create, edit, revise, trash, restore, purge, lineage, diff, search."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from promptcanvas.domain import prompts as rules
from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.errors import BadRequest, InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.domain.prompts import Prompt, PromptDiff
from promptcanvas.domain.text import normalize_label, query_terms
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.repositories import (
    LabelCount,
    LineageNode,
    PromptQuery,
    UnitOfWork,
    UowFactory,
)
from promptcanvas.services.paging import decode_cursor, encode_cursor

MAX_QUERY = 500
MAX_PAGE = 200
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class SearchRequest:
    """What a caller may ask of a listing; validated by `search`."""

    q: str | None = None
    tags: tuple[str, ...] = ()
    category: str | None = None
    project_id: str | None = None
    model: str | None = None
    starred: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: Literal["relevance", "newest", "oldest"] | None = None
    cursor: str | None = None
    limit: int = 50
    trashed: bool = False


@dataclass(frozen=True)
class SearchResult:
    """A page of prompts and the cursor of the next page, if any."""

    items: list[Prompt]
    next_cursor: str | None


@dataclass(frozen=True)
class Output:
    """A generation with its assets, for showing on the prompt."""

    generation: Generation
    assets: list[Asset]


EDITABLE = frozenset(
    {
        "text",
        "negative_text",
        "category",
        "tags",
        "language",
        "starred",
        "rating",
        "author",
        "project_id",
        "note",
    }
)


NOT_NULL = ("text", "negative_text", "tags", "starred")


def _refuse_nulls(changes: dict[str, Any]) -> None:
    """Fields that always have a value cannot be set to null (use "" or [] to clear)."""
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name}: must not be null", {"field": name})


def _cursor_time(value: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BadRequest("cursor is not valid for this query", {"field": "cursor"})
    return parsed


class Library:
    """Prompt use cases for one deployment."""

    def __init__(self, uow: UowFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def _get(self, uow: UnitOfWork, owner_id: str, prompt_id: str) -> Prompt:
        prompt = uow.prompts.get(owner_id, prompt_id) if is_valid_id(prompt_id) else None
        if prompt is None:
            raise NotFound("prompt not found", {"prompt_id": prompt_id})
        return prompt

    def _check_project(self, uow: UnitOfWork, owner_id: str, project_id: str | None) -> None:
        if project_id is None:
            return
        if not is_valid_id(project_id) or uow.projects.get(owner_id, project_id) is None:
            raise NotFound("project not found", {"field": "project_id", "project_id": project_id})

    def create_prompt(self, owner_id: str, *, text: str, **fields: Any) -> Prompt:
        """Store a new prompt."""
        prompt = rules.new_prompt(owner_id=owner_id, text=text, now=self.clock.now(), **fields)
        with self.uow() as uow:
            self._check_project(uow, owner_id, prompt.project_id)
            uow.prompts.add(prompt)
            uow.commit()
        return prompt

    def get_prompt(self, owner_id: str, prompt_id: str) -> Prompt:
        """One of the owner's prompts (trashed ones too)."""
        with self.uow(write=False) as uow:
            return self._get(uow, owner_id, prompt_id)

    def prompt_detail(self, owner_id: str, prompt_id: str) -> tuple[Prompt, list[Output]]:
        """A prompt with its generations and their assets, read in one transaction."""
        with self.uow(write=False) as uow:
            prompt = self._get(uow, owner_id, prompt_id)
            gens = uow.assets.generations_for_prompt(owner_id, prompt_id)
            found = uow.assets.assets_by_ids(owner_id, [a for g in gens for a in g.asset_ids])
        return prompt, [Output(g, [found[a] for a in g.asset_ids if a in found]) for g in gens]

    def update_prompt(self, owner_id: str, prompt_id: str, changes: dict[str, Any]) -> Prompt:
        """Edit in place: metadata always; wording only while the prompt has no outputs."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidInput(
                f"cannot change {', '.join(sorted(unknown))}", {"fields": sorted(unknown)}
            )
        with self.uow() as uow:
            prompt = self._get(uow, owner_id, prompt_id)
            clean = self._clean_changes(changes, prompt)
            rules.ensure_editable(prompt, clean)
            if "project_id" in clean:
                self._check_project(uow, owner_id, clean["project_id"])
            updated = replace(prompt, **clean, updated_at=self.clock.now())
            uow.prompts.save(updated)
            uow.commit()
        return updated

    @staticmethod
    def _clean_changes(changes: dict[str, Any], prompt: Prompt) -> dict[str, Any]:
        _refuse_nulls(changes)
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "text":
                clean[name] = rules.clean_text(value, "text", required=True)
            elif name == "negative_text":
                clean[name] = rules.clean_text(value or "", "negative_text", required=False)
            elif name == "category":
                clean[name] = rules.clean_label(value, "category")
            elif name == "tags":
                clean[name] = rules.clean_tags(value or [])
            elif name == "rating":
                clean[name] = rules.clean_rating(value)
            elif name == "author":
                clean[name] = rules.clean_optional(value, "author", rules.MAX_AUTHOR)
            elif name == "note":
                clean[name] = rules.clean_optional(value, "note", rules.MAX_NOTE)
            elif name == "starred":
                clean[name] = bool(value)
            else:
                clean[name] = value
        if "language" in clean or "text" in clean:
            clean["language"] = rules.clean_language(
                clean.get("language"), clean.get("text", prompt.text)
            )
        return clean

    def revise_prompt(self, owner_id: str, prompt_id: str, changes: dict[str, Any]) -> Prompt:
        """Create a child revision; fields not given are inherited."""
        allowed = {"text", "negative_text", "category", "tags", "language", "author", "note"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(
                f"cannot set {', '.join(sorted(unknown))} on a revision",
                {"fields": sorted(unknown)},
            )
        _refuse_nulls(changes)
        with self.uow() as uow:
            parent = self._get(uow, owner_id, prompt_id)
            child = rules.revise(parent, owner_id=owner_id, now=self.clock.now(), **changes)
            uow.prompts.add(child)
            uow.commit()
        return child

    def trash_prompt(self, owner_id: str, prompt_id: str) -> Prompt:
        """Move to the trash (restorable)."""
        with self.uow() as uow:
            prompt = self._get(uow, owner_id, prompt_id)
            if not prompt.in_trash:
                now = self.clock.now()
                prompt = replace(prompt, deleted_at=now, updated_at=now)
                uow.prompts.save(prompt)
                uow.commit()
        return prompt

    def restore_prompt(self, owner_id: str, prompt_id: str) -> Prompt:
        """Take a prompt out of the trash."""
        with self.uow() as uow:
            prompt = self._get(uow, owner_id, prompt_id)
            if prompt.in_trash:
                prompt = replace(prompt, deleted_at=None, updated_at=self.clock.now())
                uow.prompts.save(prompt)
                uow.commit()
        return prompt

    def purge_prompt(self, owner_id: str, prompt_id: str) -> None:
        """Delete for good (its revisions stay, attached to its parent)."""
        with self.uow() as uow:
            prompt = self._get(uow, owner_id, prompt_id)
            uow.prompts.purge(prompt)
            uow.commit()

    def lineage(self, owner_id: str, prompt_id: str) -> list[LineageNode]:
        """Ancestors, the prompt, descendants, in order."""
        with self.uow(write=False) as uow:
            self._get(uow, owner_id, prompt_id)
            return uow.prompts.lineage(owner_id, prompt_id)

    def diff(self, owner_id: str, prompt_id: str, against_id: str) -> PromptDiff:
        """How prompt_id differs from against_id (against is the 'before')."""
        with self.uow(write=False) as uow:
            after = self._get(uow, owner_id, prompt_id)
            before = self._get(uow, owner_id, against_id)
        return rules.diff_prompts(before, after)

    def tags(self, owner_id: str) -> list[LabelCount]:
        """Tags in use, with counts."""
        with self.uow(write=False) as uow:
            return uow.prompts.tags(owner_id)

    def categories(self, owner_id: str) -> list[LabelCount]:
        """Categories in use, with counts."""
        with self.uow(write=False) as uow:
            return uow.prompts.categories(owner_id)

    def search(self, owner_id: str, request: SearchRequest) -> SearchResult:
        """List or search the owner's prompts."""
        for name, value in (
            ("q", request.q),
            ("category", request.category),
            ("model", request.model),
            *(("tag", t) for t in request.tags),
        ):
            if value is not None and "\x00" in value:
                # PostgreSQL cannot compare text containing NUL; nothing stored contains it.
                raise InvalidInput(f"{name} must not contain NUL characters", {"field": name})
        if request.q is not None and len(request.q) > MAX_QUERY:
            raise InvalidInput(f"q is longer than {MAX_QUERY} characters", {"field": "q"})
        if not 1 <= request.limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", {"field": "limit"})
        terms = tuple(query_terms(request.q)) if request.q else ()
        sort = request.sort or ("relevance" if terms else "newest")
        if sort == "relevance" and not terms:
            sort = "newest"
        model, version = None, None
        if request.model:
            model, _, version_part = request.model.partition("@")
            version = version_part or None
        tags = tuple(t for t in (normalize_label(x) for x in request.tags) if t)
        category = normalize_label(request.category) if request.category else None
        if request.project_id is not None and not is_valid_id(request.project_id):
            raise NotFound(
                "project not found", {"field": "project", "project_id": request.project_id}
            )
        if request.since and request.until and request.since >= request.until:
            raise InvalidInput("since must be before until", {"field": "since"})
        filters = {
            "q": request.q or "",
            "tags": tags,
            "category": category,
            "project": request.project_id,
            "model": request.model,
            "starred": request.starred,
            "since": request.since,
            "until": request.until,
            "sort": sort,
            "trashed": request.trashed,
        }
        after_pk, offset = None, 0
        after_created: datetime | None = None
        if request.cursor:
            position = decode_cursor(request.cursor, filters)
            if sort == "relevance":
                value = position.get("o")
                if (
                    not isinstance(value, int)
                    or isinstance(value, bool)
                    or not 0 < value <= MAX_OFFSET
                ):
                    raise BadRequest("cursor is not valid for this query", {"field": "cursor"})
                offset = value
            else:
                value = position.get("k")
                if not isinstance(value, int) or isinstance(value, bool):
                    raise BadRequest("cursor is not valid for this query", {"field": "cursor"})
                after_pk = value
                if "t" in position:
                    after_created = _cursor_time(position["t"])
        if request.q and not terms:
            return SearchResult([], None)
        query = PromptQuery(
            owner_id=owner_id,
            terms=terms,
            tags=tags,
            category=category,
            project_id=request.project_id,
            model=model,
            model_version=version,
            starred=request.starred,
            since=request.since,
            until=request.until,
            trashed=request.trashed,
            sort=sort,
            limit=request.limit,
            after_pk=after_pk,
            after_created=after_created,
            offset=offset,
        )
        if query.by_date and after_pk is not None and after_created is None:
            raise BadRequest("cursor is not valid for this query", {"field": "cursor"})
        with self.uow(write=False) as uow:
            page = uow.prompts.find(query)
        next_cursor = None
        if page.has_more:
            if sort == "relevance":
                if offset + request.limit <= MAX_OFFSET:
                    next_cursor = encode_cursor({"o": offset + request.limit}, filters)
            elif query.by_date and page.last_created is not None:
                next_cursor = encode_cursor(
                    {"k": page.last_pk, "t": page.last_created.isoformat()}, filters
                )
            else:
                next_cursor = encode_cursor({"k": page.last_pk}, filters)
        return SearchResult(page.items, next_cursor)
