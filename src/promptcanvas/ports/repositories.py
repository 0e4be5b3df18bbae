"""Repository and unit-of-work ports. Every read takes the owner, so nothing leaks by accident."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, Self

from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.projects import Project
from promptcanvas.domain.prompts import Prompt
from promptcanvas.domain.text import QueryTerm
from promptcanvas.domain.users import ApiKey, User
from promptcanvas.ports.jobs import JobRepository
from promptcanvas.ports.portfolios import PortfolioRepository

Sort = Literal["relevance", "newest", "oldest"]


@dataclass(frozen=True)
class PromptQuery:
    """Filters for listing and searching one owner's prompts."""

    owner_id: str
    terms: tuple[QueryTerm, ...] = ()
    tags: tuple[str, ...] = ()
    category: str | None = None
    project_id: str | None = None
    model: str | None = None
    model_version: str | None = None
    starred: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    trashed: bool = False
    sort: Sort = "newest"
    limit: int = 50
    after_pk: int | None = None
    after_created: datetime | None = None
    offset: int = 0

    @property
    def by_date(self) -> bool:
        """Date-range listings page by (created_at, pk): it keeps them on one index."""
        return not self.terms and not self.tags and (self.since or self.until) is not None


@dataclass(frozen=True)
class PromptPage:
    """One page of prompts; `last_pk` and `has_more` let the service build the next cursor."""

    items: list[Prompt]
    has_more: bool
    last_pk: int | None = None
    last_created: datetime | None = None


@dataclass(frozen=True)
class LineageNode:
    """A prompt in a lineage, with its depth below the root."""

    prompt: Prompt
    depth: int


@dataclass(frozen=True)
class LabelCount:
    """A tag or category with how many live prompts use it."""

    label: str
    count: int


class PromptRepository(abc.ABC):
    """Prompts, their tags and their search index, kept in step in one transaction."""

    @abc.abstractmethod
    def add(self, prompt: Prompt) -> None:
        """Insert a new prompt (sets prompt.pk)."""

    @abc.abstractmethod
    def get(self, owner_id: str, prompt_id: str) -> Prompt | None:
        """The owner's prompt, trashed or not; None if absent or someone else's."""

    @abc.abstractmethod
    def save(self, prompt: Prompt) -> None:
        """Write back every field of an existing prompt and re-index it."""

    @abc.abstractmethod
    def purge(self, prompt: Prompt) -> None:
        """Delete for good with its generations; children move up to its parent.

        Stored files are left to the orphan sweeper, which removes them once no asset uses them.
        """

    @abc.abstractmethod
    def find(self, query: PromptQuery) -> PromptPage:
        """List or search with filters, sort and keyset/offset paging."""

    @abc.abstractmethod
    def lineage(self, owner_id: str, prompt_id: str) -> list[LineageNode]:
        """Ancestors (root first), the prompt, then descendants in depth-first creation order."""

    @abc.abstractmethod
    def tags(self, owner_id: str) -> list[LabelCount]:
        """Tags of live prompts with counts, most used first."""

    @abc.abstractmethod
    def categories(self, owner_id: str) -> list[LabelCount]:
        """Categories of live prompts with counts, most used first."""


class AssetRepository(abc.ABC):
    """Assets and generations."""

    @abc.abstractmethod
    def add(self, asset: Asset) -> Asset:
        """Insert the asset unless the owner already has these bytes; return the stored one.

        Safe under concurrency: two units of work adding the same bytes end with one row.
        """

    @abc.abstractmethod
    def get(self, owner_id: str, asset_id: str) -> Asset | None:
        """The owner's asset, or None."""

    @abc.abstractmethod
    def get_by_sha256(self, owner_id: str, sha256: str) -> Asset | None:
        """The owner's asset with these bytes, or None."""

    @abc.abstractmethod
    def known_sha256(self, shas: list[str]) -> set[str]:
        """Which of these content hashes any asset (of any owner) still uses."""

    @abc.abstractmethod
    def storage_keys(self, after_id: str | None, limit: int) -> list[tuple[str, str, str | None]]:
        """(asset id, storage key, thumbnail key) of all assets of all owners, by id, paged."""

    @abc.abstractmethod
    def add_generation(self, generation: Generation) -> None:
        """Insert a generation with its asset links; bumps the prompt's output count."""

    @abc.abstractmethod
    def add_generations(self, batch: list[Generation]) -> None:
        """Insert many generations at once (same rules as add_generation)."""

    @abc.abstractmethod
    def generations_for_prompt(self, owner_id: str, prompt_id: str) -> list[Generation]:
        """A prompt's generations, oldest first, with their asset ids."""

    @abc.abstractmethod
    def generation_with_asset(self, prompt_id: str, asset_id: str) -> Generation | None:
        """A generation of this prompt that already holds this asset."""

    @abc.abstractmethod
    def assets_by_ids(self, owner_id: str, asset_ids: list[str]) -> dict[str, Asset]:
        """The owner's assets among these ids."""


class ProjectRepository(abc.ABC):
    """Projects."""

    @abc.abstractmethod
    def add(self, project: Project) -> None:
        """Insert a new project."""

    @abc.abstractmethod
    def get(self, owner_id: str, project_id: str) -> Project | None:
        """The owner's project with its prompt count, or None."""

    @abc.abstractmethod
    def get_by_name(self, owner_id: str, name: str) -> Project | None:
        """The owner's project with this exact name, or None."""

    @abc.abstractmethod
    def for_owner(self, owner_id: str) -> list[Project]:
        """All the owner's projects, by name."""


class UserRepository(abc.ABC):
    """Users, API keys, login tokens, browser sessions."""

    @abc.abstractmethod
    def add(self, user: User) -> None:
        """Insert a user."""

    @abc.abstractmethod
    def get(self, user_id: str) -> User | None:
        """A user by id."""

    @abc.abstractmethod
    def get_by_name(self, name: str) -> User | None:
        """A user by name."""

    @abc.abstractmethod
    def all_users(self) -> list[User]:
        """All users by name."""

    @abc.abstractmethod
    def add_key(self, key: ApiKey) -> None:
        """Store a key (hash only)."""

    @abc.abstractmethod
    def user_for_key_hash(self, secret_hash: str, now: datetime) -> User | None:
        """The user of a live (unrevoked) key with this hash."""

    @abc.abstractmethod
    def touch_key(self, secret_hash: str, now: datetime) -> None:
        """Record that the key with this hash was used now."""

    @abc.abstractmethod
    def keys(self, user_id: str) -> list[ApiKey]:
        """A user's keys, newest first."""

    @abc.abstractmethod
    def revoke_key(self, user_id: str, key_id: str, now: datetime) -> bool:
        """Revoke a key; False if the user has no such live key."""

    @abc.abstractmethod
    def add_login_token(
        self, token_hash: str, user_id: str, now: datetime, expires_at: datetime
    ) -> None:
        """Store a one-time login token."""

    @abc.abstractmethod
    def consume_login_token(self, token_hash: str, now: datetime) -> User | None:
        """Mark a live, unused token used and return its user; None otherwise."""

    @abc.abstractmethod
    def add_session(
        self, token_hash: str, user_id: str, now: datetime, expires_at: datetime
    ) -> None:
        """Store a browser session."""

    @abc.abstractmethod
    def user_for_session(self, token_hash: str, now: datetime) -> User | None:
        """The user of a live session."""

    @abc.abstractmethod
    def delete_session(self, token_hash: str) -> None:
        """End a session."""


class UnitOfWork(abc.ABC):
    """One transaction: `with uow: ...; uow.commit()`. Leaving without commit rolls back.

    A unit of work opened with write=False must not write; on SQLite that lets readers run
    alongside the one writer instead of queueing behind it.
    """

    prompts: PromptRepository
    assets: AssetRepository
    projects: ProjectRepository
    users: UserRepository
    jobs: JobRepository
    portfolios: PortfolioRepository

    @abc.abstractmethod
    def __enter__(self) -> Self:
        """Begin the transaction."""

    @abc.abstractmethod
    def __exit__(self, *exc: object) -> None:
        """Roll back unless committed, and release the connection."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the changes durable."""


class UowFactory(Protocol):
    """Builds units of work; services are given one of these."""

    def __call__(self, *, write: bool = True) -> UnitOfWork:
        """A new unit of work; write=False promises not to write."""
        ...
