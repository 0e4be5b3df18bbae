"""The gallery: the owner's outputs filtered, searched, sorted, paged and collapsed; batch edits.

- A search (`q`) runs the hybrid prompt search (so a Korean query finds English prompts),
  bounded to its best SEARCH_K prompts, and lists their outputs best prompt first.
- `collapse="near"` folds outputs whose perceptual hashes are within NEAR_DUPLICATE_BITS of an
  output already on the same page into it; the item lists what it stands for. It works within
  a page (a near-duplicate set cut by a page boundary shows once on each side).
- Trash, restore and tagging are all or nothing, and refuse (404) ids that are not the owner's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from promptcanvas.domain import prompts as rules
from promptcanvas.domain.errors import InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.domain.prompts import Prompt
from promptcanvas.domain.text import normalize_label
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.gallery import (
    Facets,
    Output,
    OutputQuery,
    OutputSort,
    OutputStore,
)
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.ports.semantic import Filters
from promptcanvas.services.gallery_cursor import decode_key, encode_key, fingerprint
from promptcanvas.services.imaging import hash_distance
from promptcanvas.services.semantic import NEAR_DUPLICATE_BITS, SemanticSearch

DEFAULT_LIMIT = 60
MAX_LIMIT = 200
SEARCH_K = 200  # prompts a search may list outputs of
MAX_IDS = 500  # generation ids one batch action may name
MAX_QUERY = 500
COLLAPSE_SCAN = 10  # a collapsed page reads at most this many pages' worth of rows
SORTS: tuple[OutputSort, ...] = ("newest", "oldest", "rating", "relevance")


@dataclass(frozen=True)
class OutputFilters:
    """What a caller may ask of the outputs listing; validated by `Gallery.list_outputs`."""

    q: str | None = None
    tag: str | None = None
    category: str | None = None
    project_id: str | None = None
    provider: str | None = None
    model: str | None = None
    model_version: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    starred: bool | None = None
    trashed: bool = False
    sort: OutputSort | None = None
    collapse: Literal["near"] | None = None


@dataclass(frozen=True)
class OutputsPage:
    """A page of outputs, the cursor of the next one, and the order actually used."""

    items: list[Output]
    next_cursor: str | None
    sort: OutputSort


def _check_text(name: str, value: str | None, limit: int = 300) -> None:
    if value is None:
        return
    if "\x00" in value:
        raise InvalidInput(f"{name} must not contain NUL characters", {"field": name})
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", {"field": name})


def collapse_near(rows: list[Output], into: list[Output], limit: int) -> int:
    """Fold rows into `into` (the page so far), which holds at most `limit` items.

    Returns how many rows were used; a row is folded when its pHash is within
    NEAR_DUPLICATE_BITS of an item already on the page, else it becomes a new item, unless
    the page is full: then it is the first row of the next page and the scan stops.
    """
    used = 0
    for row in rows:
        twin = None
        if row.phash:
            twin = next(
                (
                    item
                    for item in into
                    if item.phash and hash_distance(item.phash, row.phash) <= NEAR_DUPLICATE_BITS
                ),
                None,
            )
        if twin is not None:
            twin.collapsed.append(row.generation_id)
        elif len(into) >= limit:
            return used  # the first row of the next page
        else:
            into.append(row)
        used += 1
    return used


class Gallery:
    """Outputs listing and batch actions for one deployment."""

    def __init__(
        self, store: OutputStore, semantic: SemanticSearch, uow: UowFactory, clock: Clock
    ) -> None:
        self.store = store
        self.semantic = semantic
        self.uow = uow
        self.clock = clock

    def facets(self, owner_id: str) -> Facets:
        """Providers, models and versions the owner's outputs can be filtered by."""
        return self.store.facets(owner_id)

    def list_outputs(
        self,
        owner_id: str,
        filters: OutputFilters,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> OutputsPage:
        """One page of the owner's outputs."""
        f = self._validated(filters, limit)
        searching = bool(f.q and f.q.strip())
        sort: OutputSort = f.sort or ("relevance" if searching else "newest")
        if sort == "relevance" and not searching:
            sort = "newest"
        filters_seen = fingerprint(f, sort)
        after = decode_key(cursor, filters_seen) if cursor else None
        prompt_ids = self._search(owner_id, f) if searching else None
        if prompt_ids == ():
            return OutputsPage([], None, sort)
        query = OutputQuery(
            owner_id=owner_id,
            prompt_ids=prompt_ids,
            tag=f.tag,
            category=f.category,
            project_id=f.project_id,
            provider=f.provider,
            model=f.model,
            model_version=f.model_version,
            since=f.since,
            until=f.until,
            starred=f.starred,
            trashed=f.trashed,
            sort=sort,
            limit=limit + 1,
            after=after,
        )
        if f.collapse == "near":
            items, last = self._collapsed(query, limit)
        else:
            rows = self.store.page(query)
            items, last = rows[:limit], (rows[limit - 1] if len(rows) > limit else None)
        next_cursor = encode_key(last.key, filters_seen) if last is not None else None
        return OutputsPage(items, next_cursor, sort)

    def _validated(self, f: OutputFilters, limit: int) -> OutputFilters:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", {"field": "limit"})
        _check_text("q", f.q, MAX_QUERY)
        for name in ("tag", "category", "provider", "model", "model_version"):
            _check_text(name, getattr(f, name))
        if f.project_id is not None and not is_valid_id(f.project_id):
            raise InvalidInput("project_id is not a valid id", {"field": "project_id"})
        if f.sort is not None and f.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", {"field": "sort"})
        if f.since and f.until and f.since >= f.until:
            raise InvalidInput("since must be before until", {"field": "since"})
        return replace(
            f,
            tag=normalize_label(f.tag) or None if f.tag is not None else None,
            category=normalize_label(f.category) or None if f.category is not None else None,
        )

    def _search(self, owner_id: str, f: OutputFilters) -> tuple[str, ...]:
        assert f.q is not None
        found = self.semantic.search_prompts(
            owner_id,
            f.q,
            k=SEARCH_K,
            mode="hybrid",
            filters=Filters(
                tags=(f.tag,) if f.tag else (),
                category=f.category,
                project_id=f.project_id,
                starred=f.starred,
            ),
        )
        return tuple(prompt.id for prompt, _ in found)

    def _collapsed(self, query: OutputQuery, limit: int) -> tuple[list[Output], Output | None]:
        """Fold near-duplicates, reading pages of rows until limit + 1 items (or the cap)."""
        items: list[Output] = []
        last: Output | None = None
        batch = replace(query, limit=max(limit * 2, 50))
        for _ in range(COLLAPSE_SCAN):
            rows = self.store.page(batch)
            used = collapse_near(rows, items, limit)
            if used:
                last = rows[used - 1]
            if used < len(rows):
                return items, last  # a next page starts at rows[used]
            if len(rows) < batch.limit:
                return items, None  # the listing has ended
            batch = replace(batch, after=rows[-1].key)
        return items, last  # scanned enough for one page; the next one goes on from here

    # -- batch actions ------------------------------------------------------------------------

    def _ids(self, generation_ids: list[str]) -> list[str]:
        ids = list(dict.fromkeys(generation_ids))
        if not ids:
            raise InvalidInput("generation_ids must not be empty", {"field": "generation_ids"})
        if len(ids) > MAX_IDS:
            raise InvalidInput(
                f"at most {MAX_IDS} generation ids at once", {"field": "generation_ids"}
            )
        return ids

    def _missing(self, missing: list[str]) -> NotFound:
        return NotFound("generation not found", {"generation_ids": missing[:20]})

    def trash(self, owner_id: str, generation_ids: list[str]) -> int:
        """Move these outputs' generations to the trash (all or none)."""
        return self._set_trashed(owner_id, generation_ids, self.clock.now())

    def restore(self, owner_id: str, generation_ids: list[str]) -> int:
        """Take these generations out of the trash (all or none)."""
        return self._set_trashed(owner_id, generation_ids, None)

    def _set_trashed(self, owner_id: str, generation_ids: list[str], when: datetime | None) -> int:
        ids = self._ids(generation_ids)
        bad = [i for i in ids if not is_valid_id(i)]
        missing = bad or self.store.set_trashed(owner_id, ids, when)
        if missing:
            raise self._missing(missing)
        return len(ids)

    def retag(
        self, owner_id: str, generation_ids: list[str], add: list[str], remove: list[str]
    ) -> list[Prompt]:
        """Add and remove tags on the prompts behind these outputs, in one transaction.

        Tags are metadata, so prompts with outputs are edited in place (as PATCH /prompts
        does); a prompt in the trash is refused (409) and then nothing changes.
        """
        ids = self._ids(generation_ids)
        adding = rules.clean_tags(add)
        removing = set(rules.clean_tags(remove))
        if not adding and not removing:
            raise InvalidInput("give tags to add or to remove", {"field": "add"})
        owned = self.store.prompt_ids(owner_id, [i for i in ids if is_valid_id(i)])
        missing = [i for i in ids if i not in owned]
        if missing:
            raise self._missing(missing)
        changed: list[Prompt] = []
        now = self.clock.now()
        with self.uow() as uow:
            for prompt_id in dict.fromkeys(owned[i] for i in ids):
                prompt = uow.prompts.get(owner_id, prompt_id)
                if prompt is None:  # purged since the ids were read
                    raise NotFound("prompt not found", {"prompt_id": prompt_id})
                kept = [t for t in prompt.tags if t not in removing]
                tags = rules.clean_tags(kept + [t for t in adding if t not in kept])
                rules.ensure_editable(prompt, {"tags": tags})
                if tags != prompt.tags:
                    prompt = replace(prompt, tags=tags, updated_at=now)
                    uow.prompts.save(prompt)
                changed.append(prompt)
            uow.commit()
        return changed
