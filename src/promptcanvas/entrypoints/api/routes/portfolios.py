"""/api/v1/portfolios: build, order, caption, cover, publish, revoke, delete, export as a zip."""

from __future__ import annotations

import tempfile
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from promptcanvas.domain.portfolios import ItemEdit
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.files import file_chunks
from promptcanvas.entrypoints.api.portfolio_schemas import (
    ItemsAdd,
    PortfolioCreate,
    PortfolioPublic,
    PortfoliosPublic,
    PortfolioSummaryPublic,
    PortfolioUpdate,
)
from promptcanvas.entrypoints.api.schemas import API_ERRORS, error_responses
from promptcanvas.entrypoints.web.portfolio_pages import export_filename, render_export
from promptcanvas.services.portfolio_export import ExportView
from promptcanvas.services.portfolios import PortfolioDetail

router = APIRouter(prefix="/api/v1/portfolios", tags=["portfolios"], responses=API_ERRORS)
ERRORS = error_responses(404)
_SPOOL = 16 * 1024 * 1024  # zips smaller than this stay in memory


def _public(c: ContainerDep, detail: PortfolioDetail) -> PortfolioPublic:
    return PortfolioPublic.of(detail, c.portfolios.share_url(detail.portfolio.share_token))


@router.get("", response_model=PortfoliosPublic, responses=ERRORS)
def list_portfolios(
    user: CurrentUser,
    c: ContainerDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
) -> PortfoliosPublic:
    """The caller's portfolios, last changed first."""
    page = c.portfolios.list_portfolios(user.id, cursor=cursor, limit=limit, project_id=project_id)
    return PortfoliosPublic(
        data=[
            PortfolioSummaryPublic.of(s, c.portfolios.share_url(s.share_token)) for s in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.post("", status_code=201, response_model=PortfolioPublic, responses=ERRORS)
def create_portfolio(body: PortfolioCreate, user: CurrentUser, c: ContainerDep) -> PortfolioPublic:
    """A new portfolio of every output of these prompts (in order) or of these generations."""
    detail = c.portfolios.create_portfolio(
        user.id,
        body.title,
        description=body.description,
        project_id=body.project_id,
        prompt_ids=body.prompt_ids,
        generation_ids=body.generation_ids,
        public=body.public,
    )
    return _public(c, detail)


@router.get("/{portfolio_id}", response_model=PortfolioPublic, responses=ERRORS)
def get_portfolio(portfolio_id: str, user: CurrentUser, c: ContainerDep) -> PortfolioPublic:
    """A portfolio with its items in order."""
    return _public(c, c.portfolios.get_portfolio(user.id, portfolio_id))


@router.patch("/{portfolio_id}", response_model=PortfolioPublic, responses=ERRORS)
def update_portfolio(
    portfolio_id: str, body: PortfolioUpdate, user: CurrentUser, c: ContainerDep
) -> PortfolioPublic:
    """Title, description, cover (null: the first item), and the items' new order and captions.

    `items` lists the portfolio's own items in their new order; ones left out are removed.
    """
    items = None
    if body.items is not None:
        items = [ItemEdit(i.asset_id, i.caption) for i in body.items]
    detail = c.portfolios.update_portfolio(
        user.id,
        portfolio_id,
        title=body.title,
        description=body.description,
        items=items,
        set_cover="cover_asset_id" in body.model_fields_set,
        cover_asset_id=body.cover_asset_id,
    )
    return _public(c, detail)


@router.post("/{portfolio_id}/items", response_model=PortfolioPublic, responses=ERRORS)
def add_items(
    portfolio_id: str, body: ItemsAdd, user: CurrentUser, c: ContainerDep
) -> PortfolioPublic:
    """Append these generations' outputs, skipping ones already there."""
    return _public(c, c.portfolios.add_items(user.id, portfolio_id, body.generation_ids))


@router.post("/{portfolio_id}/publish", response_model=PortfolioPublic, responses=ERRORS)
def publish_portfolio(portfolio_id: str, user: CurrentUser, c: ContainerDep) -> PortfolioPublic:
    """Share at a new unguessable link; an earlier link stops working."""
    return _public(c, c.portfolios.publish(user.id, portfolio_id))


@router.post("/{portfolio_id}/unpublish", response_model=PortfolioPublic, responses=ERRORS)
def unpublish_portfolio(portfolio_id: str, user: CurrentUser, c: ContainerDep) -> PortfolioPublic:
    """Revoke the share link at once."""
    return _public(c, c.portfolios.unpublish(user.id, portfolio_id))


@router.delete("/{portfolio_id}", status_code=204, responses=ERRORS)
def delete_portfolio(portfolio_id: str, user: CurrentUser, c: ContainerDep) -> Response:
    """Delete the portfolio; its outputs stay in the library."""
    c.portfolios.delete_portfolio(user.id, portfolio_id)
    return Response(status_code=204)


@router.get(
    "/{portfolio_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, **error_responses(413), **ERRORS},
)
def export_portfolio(
    portfolio_id: str, request: Request, user: CurrentUser, c: ContainerDep
) -> Response:
    """A static HTML zip: index.html, images/* (metadata embedded) and manifest.json."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (closed by file_chunks)
    try:

        def index(view: ExportView) -> str:
            return render_export(request, c, view)

        portfolio = c.portfolios.export_zip(user.id, portfolio_id, spool, index)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    ascii_name, name = export_filename(portfolio.title)
    headers = {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        ),
        "Content-Length": str(size),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(file_chunks(spool), media_type="application/zip", headers=headers)
