"""The portfolio repository port, and the read models it returns."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

from promptcanvas.domain.portfolios import Portfolio


@dataclass(frozen=True)
class PortfolioSummary:
    """A portfolio in a listing: no items, just their count and the cover."""

    id: str
    title: str
    description: str
    project_id: str | None
    item_count: int
    cover_asset_id: str | None  # the chosen cover, else the first item
    share_token: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ItemView:
    """A portfolio item with what a page shows of it: the prompt text and the file's shape."""

    asset_id: str
    generation_id: str | None
    position: int
    caption: str
    prompt_id: str | None
    prompt_text: str | None
    media_type: str
    width: int | None
    height: int | None
    hidden: bool  # its prompt or generation is in the trash: left out of public views


@dataclass(frozen=True)
class OutputRef:
    """An output (one file of one generation) of a prompt."""

    asset_id: str
    generation_id: str
    prompt_id: str
    prompt_text: str
    created_at: datetime


class PortfolioRepository(abc.ABC):
    """Portfolios with their items, and the outputs they are built from.

    Every read takes the owner, except `by_token`, which is how the public page finds a
    published portfolio: the token is unique and compared by the database's index lookup.
    """

    @abc.abstractmethod
    def add(self, portfolio: Portfolio) -> None:
        """Insert a new portfolio with its items."""

    @abc.abstractmethod
    def get(self, owner_id: str, portfolio_id: str) -> Portfolio | None:
        """The owner's portfolio with its items in order, or None."""

    @abc.abstractmethod
    def by_token(self, token: str) -> Portfolio | None:
        """The published portfolio with this share token, or None."""

    @abc.abstractmethod
    def save(self, portfolio: Portfolio) -> None:
        """Write back every field and replace the items."""

    @abc.abstractmethod
    def delete(self, owner_id: str, portfolio_id: str) -> bool:
        """Delete the owner's portfolio; False if there was none."""

    @abc.abstractmethod
    def summaries(
        self,
        owner_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
        project_id: str | None = None,
    ) -> list[PortfolioSummary]:
        """The owner's portfolios, last updated first, after an (updated_at, id) position."""

    @abc.abstractmethod
    def item_views(self, portfolio: Portfolio) -> list[ItemView]:
        """The portfolio's items in order, with their prompt text and file shape."""

    @abc.abstractmethod
    def outputs_of_prompts(self, owner_id: str, prompt_ids: list[str]) -> list[OutputRef]:
        """Every file of these prompts' live generations, prompt by prompt in the given order."""

    @abc.abstractmethod
    def outputs_of_generations(self, owner_id: str, generation_ids: list[str]) -> list[OutputRef]:
        """Every file of these generations, in the given order."""

    @abc.abstractmethod
    def project_outputs(self, owner_id: str, project_id: str, limit: int) -> list[OutputRef]:
        """The newest files of a project's live prompts and generations."""

    @abc.abstractmethod
    def project_output_counts(self, owner_id: str) -> dict[str, int]:
        """How many files each of the owner's projects has (live prompts and generations)."""
