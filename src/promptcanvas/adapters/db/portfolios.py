"""SQLAlchemy Core repository of portfolios and their items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from promptcanvas.adapters.db.tables import (
    assets,
    generation_assets,
    generations,
    portfolio_items,
    portfolios,
    prompts,
)
from promptcanvas.domain.portfolios import Portfolio, PortfolioItem
from promptcanvas.ports import portfolios as ports

_FIELDS = (
    "id",
    "owner_id",
    "title",
    "description",
    "project_id",
    "cover_asset_id",
    "share_token",
    "created_at",
    "updated_at",
)
_CHUNK = 500


def _output(row: sa.Row[Any]) -> ports.OutputRef:
    return ports.OutputRef(
        asset_id=row.asset_id,
        generation_id=row.generation_id,
        prompt_id=row.prompt_id,
        prompt_text=row.text,
        created_at=row.created_at,
    )


def _outputs_select() -> sa.Select[Any]:
    return (
        sa.select(
            generation_assets.c.asset_id,
            generation_assets.c.generation_id,
            generations.c.prompt_id,
            prompts.c.text,
            generations.c.created_at,
        )
        .join(generations, generations.c.id == generation_assets.c.generation_id)
        .join(prompts, prompts.c.id == generations.c.prompt_id)
    )


class SqlPortfolioRepository(ports.PortfolioRepository):
    """Portfolios and items; every read is scoped to the owner (or to a share token)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _items(self, portfolio_id: str) -> list[PortfolioItem]:
        rows = self.conn.execute(
            sa.select(portfolio_items)
            .where(portfolio_items.c.portfolio_id == portfolio_id)
            .order_by(portfolio_items.c.position, portfolio_items.c.asset_id)
        )
        return [
            PortfolioItem(r.asset_id, r.generation_id, i, r.caption or "")
            for i, r in enumerate(rows)
        ]

    def _one(self, where: sa.ColumnElement[bool]) -> Portfolio | None:
        row = self.conn.execute(sa.select(portfolios).where(where)).first()
        if row is None:
            return None
        found = Portfolio(**{name: row._mapping[name] for name in _FIELDS})
        found.description = found.description or ""
        found.items = self._items(found.id)
        return found

    def _write_items(self, portfolio: Portfolio) -> None:
        if portfolio.items:
            self.conn.execute(
                portfolio_items.insert(),
                [
                    {
                        "portfolio_id": portfolio.id,
                        "asset_id": item.asset_id,
                        "generation_id": item.generation_id,
                        "position": position,
                        "caption": item.caption,
                    }
                    for position, item in enumerate(portfolio.items)
                ],
            )

    def add(self, portfolio: Portfolio) -> None:
        """Insert a portfolio and its items."""
        self.conn.execute(portfolios.insert().values(**self._values(portfolio)))
        self._write_items(portfolio)

    @staticmethod
    def _values(portfolio: Portfolio) -> dict[str, Any]:
        return {name: getattr(portfolio, name) for name in _FIELDS}

    def get(self, owner_id: str, portfolio_id: str) -> Portfolio | None:
        """The owner's portfolio with its items."""
        return self._one((portfolios.c.id == portfolio_id) & (portfolios.c.owner_id == owner_id))

    def by_token(self, token: str) -> Portfolio | None:
        """The published portfolio with this token."""
        return self._one(portfolios.c.share_token == token)

    def save(self, portfolio: Portfolio) -> None:
        """Write back the fields and replace the items."""
        values = self._values(portfolio)
        self.conn.execute(
            portfolios.update()
            .where(portfolios.c.id == portfolio.id, portfolios.c.owner_id == portfolio.owner_id)
            .values(**values)
        )
        self.conn.execute(
            portfolio_items.delete().where(portfolio_items.c.portfolio_id == portfolio.id)
        )
        self._write_items(portfolio)

    def delete(self, owner_id: str, portfolio_id: str) -> bool:
        """Delete the owner's portfolio (items go with it)."""
        where = (portfolios.c.id == portfolio_id) & (portfolios.c.owner_id == owner_id)
        if self.conn.execute(sa.select(portfolios.c.id).where(where)).first() is None:
            return False
        # Items first: SQLite enforces the cascade only with foreign keys switched on.
        self.conn.execute(
            portfolio_items.delete().where(portfolio_items.c.portfolio_id == portfolio_id)
        )
        self.conn.execute(portfolios.delete().where(where))
        return True

    def summaries(
        self,
        owner_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
        project_id: str | None = None,
    ) -> list[ports.PortfolioSummary]:
        """The owner's portfolios, last updated first."""
        count = (
            sa.select(sa.func.count())
            .where(portfolio_items.c.portfolio_id == portfolios.c.id)
            .scalar_subquery()
        )
        first = (
            sa.select(portfolio_items.c.asset_id)
            .where(portfolio_items.c.portfolio_id == portfolios.c.id)
            .order_by(portfolio_items.c.position)
            .limit(1)
            .scalar_subquery()
        )
        stmt = sa.select(portfolios, count.label("item_count"), first.label("first_asset")).where(
            portfolios.c.owner_id == owner_id
        )
        if project_id is not None:
            stmt = stmt.where(portfolios.c.project_id == project_id)
        if after is not None:
            stamp, last_id = after
            stmt = stmt.where(
                (portfolios.c.updated_at < stamp)
                | ((portfolios.c.updated_at == stamp) & (portfolios.c.id < last_id))
            )
        stmt = stmt.order_by(portfolios.c.updated_at.desc(), portfolios.c.id.desc()).limit(limit)
        return [
            ports.PortfolioSummary(
                id=r.id,
                title=r.title,
                description=r.description or "",
                project_id=r.project_id,
                item_count=int(r.item_count),
                cover_asset_id=r.cover_asset_id or r.first_asset,
                share_token=r.share_token,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in self.conn.execute(stmt)
        ]

    def item_views(self, portfolio: Portfolio) -> list[ports.ItemView]:
        """Items in order with prompt text and file shape (the asset must be the owner's)."""
        rows = self.conn.execute(
            sa.select(
                portfolio_items,
                assets.c.media_type,
                assets.c.width,
                assets.c.height,
                generations.c.prompt_id,
                generations.c.trashed_at,
                prompts.c.text,
                prompts.c.deleted_at,
            )
            .join(assets, assets.c.id == portfolio_items.c.asset_id)
            .outerjoin(generations, generations.c.id == portfolio_items.c.generation_id)
            .outerjoin(prompts, prompts.c.id == generations.c.prompt_id)
            .where(
                portfolio_items.c.portfolio_id == portfolio.id,
                assets.c.owner_id == portfolio.owner_id,
            )
            .order_by(portfolio_items.c.position, portfolio_items.c.asset_id)
        )
        return [
            ports.ItemView(
                asset_id=r.asset_id,
                generation_id=r.generation_id,
                position=i,
                caption=r.caption or "",
                prompt_id=r.prompt_id,
                prompt_text=r.text,
                media_type=r.media_type,
                width=r.width,
                height=r.height,
                hidden=r.trashed_at is not None or r.deleted_at is not None,
            )
            for i, r in enumerate(rows)
        ]

    def outputs_of_prompts(self, owner_id: str, prompt_ids: list[str]) -> list[ports.OutputRef]:
        """Files of these prompts' untrashed generations, prompt by prompt."""
        by_prompt: dict[str, list[ports.OutputRef]] = {p: [] for p in prompt_ids}
        for i in range(0, len(prompt_ids), _CHUNK):
            rows = self.conn.execute(
                _outputs_select()
                .where(
                    generations.c.prompt_id.in_(prompt_ids[i : i + _CHUNK]),
                    generations.c.owner_id == owner_id,
                    generations.c.trashed_at.is_(None),
                )
                .order_by(generations.c.created_at, generations.c.id, generation_assets.c.position)
            )
            for row in rows:
                by_prompt[row.prompt_id].append(_output(row))
        return [ref for p in prompt_ids for ref in by_prompt[p]]

    def outputs_of_generations(
        self, owner_id: str, generation_ids: list[str]
    ) -> list[ports.OutputRef]:
        """Files of these generations, in the given order."""
        by_generation: dict[str, list[ports.OutputRef]] = {g: [] for g in generation_ids}
        for i in range(0, len(generation_ids), _CHUNK):
            rows = self.conn.execute(
                _outputs_select()
                .where(
                    generations.c.id.in_(generation_ids[i : i + _CHUNK]),
                    generations.c.owner_id == owner_id,
                )
                .order_by(generation_assets.c.position)
            )
            for row in rows:
                by_generation[row.generation_id].append(_output(row))
        return [ref for g in generation_ids for ref in by_generation[g]]

    def project_outputs(self, owner_id: str, project_id: str, limit: int) -> list[ports.OutputRef]:
        """The newest files of a project's live prompts."""
        rows = self.conn.execute(
            _outputs_select()
            .where(
                prompts.c.project_id == project_id,
                prompts.c.owner_id == owner_id,
                prompts.c.deleted_at.is_(None),
                generations.c.trashed_at.is_(None),
            )
            .order_by(
                generations.c.created_at.desc(),
                generations.c.id.desc(),
                generation_assets.c.position,
            )
            .limit(limit)
        )
        return [_output(r) for r in rows]

    def project_output_counts(self, owner_id: str) -> dict[str, int]:
        """Files per project of the owner's live prompts."""
        rows = self.conn.execute(
            sa.select(prompts.c.project_id, sa.func.count())
            .select_from(generation_assets)
            .join(generations, generations.c.id == generation_assets.c.generation_id)
            .join(prompts, prompts.c.id == generations.c.prompt_id)
            .where(
                prompts.c.owner_id == owner_id,
                prompts.c.project_id.is_not(None),
                prompts.c.deleted_at.is_(None),
                generations.c.trashed_at.is_(None),
            )
            .group_by(prompts.c.project_id)
        )
        return {r[0]: int(r[1]) for r in rows}
