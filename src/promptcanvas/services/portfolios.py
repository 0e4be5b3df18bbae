"""Portfolios: build from outputs, order and caption, publish at /p/{token}, revoke, export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from promptcanvas.domain.assets import Asset
from promptcanvas.domain.errors import Conflict, InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id, new_id
from promptcanvas.domain.portfolios import (
    MAX_ITEMS,
    ItemEdit,
    Portfolio,
    append_items,
    check_cover,
    clean_description,
    clean_title,
    is_token_shaped,
    kept_cover,
    new_share_token,
    rearrange,
)
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.portfolios import ItemView, OutputRef, PortfolioSummary
from promptcanvas.ports.repositories import UnitOfWork, UowFactory
from promptcanvas.services.assets import AssetService
from promptcanvas.services.paging import decode_cursor, encode_cursor
from promptcanvas.services.portfolio_export import ExportView, write_zip
from promptcanvas.services.project_views import ProjectViews


@dataclass(frozen=True)
class PortfolioDetail:
    """A portfolio with its items as pages show them."""

    portfolio: Portfolio
    items: list[ItemView]


@dataclass(frozen=True)
class PortfolioPage:
    """One page of an owner's portfolios."""

    items: list[PortfolioSummary]
    next_cursor: str | None


def _unique_ids(ids: list[str], field: str) -> list[str]:
    if len(ids) > MAX_ITEMS:
        raise InvalidInput(f"{field} holds at most {MAX_ITEMS} ids", {"field": field})
    seen: dict[str, None] = {}
    for value in ids:
        seen.setdefault(value, None)
    return list(seen)


class PortfolioService:
    """Portfolio use cases; every call is scoped to the owner, except the share-token reads."""

    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        assets: AssetService,
        *,
        base_url: str,
        export_max_bytes: int,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.assets = assets
        self.base_url = base_url.rstrip("/")
        self.export_max_bytes = export_max_bytes
        self.projects = ProjectViews(uow)

    def share_url(self, token: str | None) -> str | None:
        """The absolute share link of a token (None while unpublished)."""
        return f"{self.base_url}/p/{token}" if token else None

    def _load(self, uow: UnitOfWork, owner_id: str, portfolio_id: str) -> Portfolio:
        found = uow.portfolios.get(owner_id, portfolio_id) if is_valid_id(portfolio_id) else None
        if found is None:
            raise NotFound("portfolio not found", {"portfolio_id": portfolio_id[:64]})
        return found

    def _outputs(
        self,
        uow: UnitOfWork,
        owner_id: str,
        prompt_ids: list[str] | None,
        generation_ids: list[str] | None,
    ) -> list[tuple[str, str | None]]:
        if prompt_ids is not None and generation_ids is not None:
            raise InvalidInput(
                "send prompt_ids or generation_ids, not both", {"field": "generation_ids"}
            )
        refs: list[OutputRef] = []
        if prompt_ids is not None:
            wanted = _unique_ids(prompt_ids, "prompt_ids")
            for value in wanted:
                prompt = uow.prompts.get(owner_id, value) if is_valid_id(value) else None
                if prompt is None:
                    raise NotFound("prompt not found", {"field": "prompt_ids", "id": value[:64]})
                if prompt.in_trash:
                    raise Conflict("a prompt is in the trash", {"field": "prompt_ids", "id": value})
            refs = uow.portfolios.outputs_of_prompts(owner_id, wanted)
        elif generation_ids is not None:
            wanted = _unique_ids(generation_ids, "generation_ids")
            valid = [g for g in wanted if is_valid_id(g)]
            known = uow.jobs.generations_by_ids(owner_id, valid)
            missing = next((g for g in wanted if g not in known), None)
            if missing is not None:
                raise NotFound(
                    "generation not found", {"field": "generation_ids", "id": missing[:64]}
                )
            refs = uow.portfolios.outputs_of_generations(owner_id, wanted)
        return [(ref.asset_id, ref.generation_id) for ref in refs]

    def _detail(self, uow: UnitOfWork, portfolio: Portfolio) -> PortfolioDetail:
        return PortfolioDetail(portfolio, uow.portfolios.item_views(portfolio))

    def create_portfolio(
        self,
        owner_id: str,
        title: str,
        *,
        description: str | None = None,
        project_id: str | None = None,
        prompt_ids: list[str] | None = None,
        generation_ids: list[str] | None = None,
        public: bool = False,
    ) -> PortfolioDetail:
        """A new portfolio of the outputs of these prompts or generations (or none)."""
        now = self.clock.now()
        portfolio = Portfolio(
            id=new_id(),
            owner_id=owner_id,
            title=clean_title(title),
            description=clean_description(description),
            created_at=now,
            updated_at=now,
            project_id=project_id,
            share_token=new_share_token() if public else None,
        )
        with self.uow() as uow:
            if project_id is not None:
                project = (
                    uow.projects.get(owner_id, project_id) if is_valid_id(project_id) else None
                )
                if project is None:
                    raise NotFound("project not found", {"field": "project_id"})
            outputs = self._outputs(uow, owner_id, prompt_ids, generation_ids)
            portfolio.items = append_items([], outputs)
            uow.portfolios.add(portfolio)
            detail = self._detail(uow, portfolio)
            uow.commit()
        return detail

    def get_portfolio(self, owner_id: str, portfolio_id: str) -> PortfolioDetail:
        """One of the owner's portfolios with its items."""
        with self.uow(write=False) as uow:
            return self._detail(uow, self._load(uow, owner_id, portfolio_id))

    def list_portfolios(
        self,
        owner_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
        project_id: str | None = None,
    ) -> PortfolioPage:
        """The owner's portfolios, last changed first, in cursor pages."""
        filters = {"project_id": project_id}
        after = None
        if cursor:
            position = decode_cursor(cursor, filters)
            try:
                after = (datetime.fromisoformat(position["u"]), str(position["i"]))
            except (KeyError, TypeError, ValueError):
                raise InvalidInput("cursor is not valid", {"field": "cursor"}) from None
        with self.uow(write=False) as uow:
            rows = uow.portfolios.summaries(
                owner_id, limit=limit + 1, after=after, project_id=project_id
            )
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor({"u": last.updated_at.isoformat(), "i": last.id}, filters)
        return PortfolioPage(rows, next_cursor)

    def _change(
        self, owner_id: str, portfolio_id: str, edit: Callable[[UnitOfWork, Portfolio], None]
    ) -> PortfolioDetail:
        with self.uow() as uow:
            portfolio = self._load(uow, owner_id, portfolio_id)
            edit(uow, portfolio)
            portfolio.updated_at = self.clock.now()
            uow.portfolios.save(portfolio)
            detail = self._detail(uow, portfolio)
            uow.commit()
        return detail

    def update_portfolio(
        self,
        owner_id: str,
        portfolio_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        items: list[ItemEdit] | None = None,
        set_cover: bool = False,
        cover_asset_id: str | None = None,
    ) -> PortfolioDetail:
        """Change title, description, the items' order and captions, and the cover."""
        clean = clean_title(title) if title is not None else None
        text = clean_description(description) if description is not None else None

        def edit(_uow: UnitOfWork, p: Portfolio) -> None:
            if items is not None:
                p.items = rearrange(p.items, items)
                p.cover_asset_id = kept_cover(p.items, p.cover_asset_id)
            if set_cover:
                p.cover_asset_id = check_cover(p.items, cover_asset_id)
            p.title = clean or p.title
            p.description = p.description if text is None else text

        return self._change(owner_id, portfolio_id, edit)

    def add_items(
        self, owner_id: str, portfolio_id: str, generation_ids: list[str]
    ) -> PortfolioDetail:
        """Append these generations' files, skipping ones already in the portfolio."""

        def edit(uow: UnitOfWork, p: Portfolio) -> None:
            p.items = append_items(p.items, self._outputs(uow, owner_id, None, generation_ids))

        return self._change(owner_id, portfolio_id, edit)

    def publish(self, owner_id: str, portfolio_id: str) -> PortfolioDetail:
        """Share at a new link (any earlier link stops working)."""

        def edit(_uow: UnitOfWork, p: Portfolio) -> None:
            p.share_token = new_share_token()

        return self._change(owner_id, portfolio_id, edit)

    def unpublish(self, owner_id: str, portfolio_id: str) -> PortfolioDetail:
        """Revoke the share link."""

        def edit(_uow: UnitOfWork, p: Portfolio) -> None:
            p.share_token = None

        return self._change(owner_id, portfolio_id, edit)

    def delete_portfolio(self, owner_id: str, portfolio_id: str) -> None:
        """Delete a portfolio (its outputs stay in the library)."""
        with self.uow() as uow:
            self._load(uow, owner_id, portfolio_id)
            uow.portfolios.delete(owner_id, portfolio_id)
            uow.commit()

    def shared(self, token: str) -> PortfolioDetail:
        """A published portfolio as the public sees it: items in the trash are left out."""
        with self.uow(write=False) as uow:
            found = uow.portfolios.by_token(token) if is_token_shaped(token) else None
            if found is None:
                raise NotFound("this link does not exist or was revoked")
            detail = self._detail(uow, found)
        return PortfolioDetail(detail.portfolio, [i for i in detail.items if not i.hidden])

    def shared_asset(self, token: str, asset_id: str) -> Asset:
        """A file of a published portfolio, only if it is one of its public items."""
        detail = self.shared(token)
        if all(item.asset_id != asset_id for item in detail.items):
            raise NotFound("not part of this portfolio")
        return self.assets.get(detail.portfolio.owner_id, asset_id)

    def export_zip(
        self,
        owner_id: str,
        portfolio_id: str,
        out: IO[bytes],
        render_index: Callable[[ExportView], str],
    ) -> Portfolio:
        """Write a static HTML zip of what the public page shows (413 over the size limit)."""
        detail = self.get_portfolio(owner_id, portfolio_id)
        visible = [i for i in detail.items if not i.hidden]
        write_zip(
            self.uow,
            self.assets,
            detail.portfolio,
            visible,
            out,
            render_index,
            now=self.clock.now(),
            max_bytes=self.export_max_bytes,
        )
        return detail.portfolio
