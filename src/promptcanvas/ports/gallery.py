"""The outputs listing port: one row per asset of a generation, for the gallery and timeline.

OutputStore contract:
- Every read and write is scoped to one owner; another owner's rows are never returned or
  changed, and an id that is not the owner's counts as missing.
- `page` walks the owner's outputs in the query's order with keyset paging: `after` is the
  key of the last row of the previous page and the page starts strictly after it. Rows are
  totally ordered (ties broken by generation id, then the asset's position in it), so paging
  gives every output exactly once. A page costs O(limit) index steps for the default order;
  it never uses OFFSET.
- Outputs are hidden while their generation is in the trash (unless `trashed` asks for the
  trash) and while their prompt is in the prompt trash.
- `set_trashed` is all or nothing: if any id is not the owner's, nothing changes.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

OutputSort = Literal["newest", "oldest", "rating", "relevance"]


@dataclass(frozen=True)
class OutputKey:
    """Where an output sits in a listing's order (the keyset cursor)."""

    created_at: datetime
    generation_id: str
    position: int
    rating: int = -1  # the prompt's rating, -1 when unrated (rating order only)
    prompt_id: str = ""  # relevance order only
    prompt_pk: int = 0  # rating order only


@dataclass(frozen=True)
class OutputQuery:
    """Filters, order and page of one owner's outputs."""

    owner_id: str
    prompt_ids: tuple[str, ...] | None = None  # a search's prompts, best first
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
    sort: OutputSort = "newest"
    limit: int = 60
    after: OutputKey | None = None


@dataclass
class Output:
    """One asset of one generation, with what the gallery shows about its prompt."""

    generation_id: str
    asset_id: str
    position: int
    prompt_id: str
    prompt_text: str
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
    phash: str | None
    prompt_pk: int = 0
    trashed_at: datetime | None = None
    collapsed: list[str] = field(default_factory=list)  # generation ids folded into this one

    @property
    def key(self) -> OutputKey:
        """This output's place in a listing."""
        rating = -1 if self.rating is None else self.rating
        return OutputKey(
            self.created_at,
            self.generation_id,
            self.position,
            rating,
            self.prompt_id,
            self.prompt_pk,
        )


@dataclass(frozen=True)
class Facets:
    """What the owner's outputs can be filtered by (providers, models, versions)."""

    providers: list[str]
    models: list[str]
    versions: list[str]


class OutputStore(abc.ABC):
    """The owner's outputs and batch changes to their generations (see module docstring)."""

    @abc.abstractmethod
    def page(self, query: OutputQuery) -> list[Output]:
        """Up to `query.limit` outputs after `query.after`, in the query's order."""

    @abc.abstractmethod
    def facets(self, owner_id: str) -> Facets:
        """Distinct providers, models and versions of the owner's generations."""

    @abc.abstractmethod
    def prompt_ids(self, owner_id: str, generation_ids: list[str]) -> dict[str, str]:
        """generation id -> prompt id, for those of the ids that are the owner's."""

    @abc.abstractmethod
    def set_trashed(
        self, owner_id: str, generation_ids: list[str], when: datetime | None
    ) -> list[str]:
        """Trash (when) or restore (None) them all; returns the ids not found (then none)."""
