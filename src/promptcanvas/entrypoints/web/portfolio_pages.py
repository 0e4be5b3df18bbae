"""Portfolio pages: the list, the editor, the public page at /p/{token} and its images.

The public page and its images answer for a live share token only, show only that portfolio's
public items, and carry nothing of the private app: no owner, no CSRF token, no app links.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from promptcanvas.domain.assets import thumbnail_media_type
from promptcanvas.domain.errors import DomainError, NotFound, StorageUnavailable
from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.api.files import file_chunks
from promptcanvas.entrypoints.web import project_pages
from promptcanvas.entrypoints.web.base import (
    SECURITY_HEADERS,
    PageUser,
    environment,
    form_csrf_ok,
    language,
    render,
)
from promptcanvas.entrypoints.web.strings import strings
from promptcanvas.services.portfolio_export import ExportView

router = APIRouter(include_in_schema=False)
router.include_router(project_pages.router)

PUBLIC_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_UNICODE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|;]+")


def render_export(request: Request, c: ContainerDep, view: ExportView) -> str:
    """The zip's self-contained index.html, in the request's language."""
    lang = language(request)
    env = environment(c.settings.data_dir / "templates")
    return env.get_template("export_portfolio.html").render(t=strings(lang), lang=lang, view=view)


def export_filename(title: str) -> tuple[str, str]:
    """An ASCII file name and a UTF-8 one for a portfolio's zip."""
    name = _UNSAFE_UNICODE.sub("_", title).strip(" ._")[:100] or "portfolio"
    ascii_name = _UNSAFE.sub("_", name).strip("._")[:100] or "portfolio"
    return f"{ascii_name}.zip", f"{name}.zip"


@router.get("/portfolios", response_class=HTMLResponse)
def portfolios_page(request: Request, c: ContainerDep, user: PageUser) -> HTMLResponse:
    """The user's portfolios, and a form to start a new one."""
    return _list(request, c, user)


def _list(
    request: Request,
    c: ContainerDep,
    user: User,
    *,
    status: int = 200,
    error: str | None = None,
    title_value: str = "",
) -> HTMLResponse:
    page = c.portfolios.list_portfolios(user.id, limit=200)
    return render(
        request,
        c,
        "portfolios.html",
        user=user,
        nav="portfolios",
        status=status,
        portfolios=page.items,
        projects=c.projects.list_projects(user.id),
        error=error,
        title_value=title_value,
    )


@router.post("/portfolios", response_class=HTMLResponse)
async def create_portfolio_form(request: Request, c: ContainerDep, user: PageUser) -> Response:
    """Create a portfolio from the form (optionally filled with a project's outputs)."""
    form = await request.form()
    if not form_csrf_ok(request, form.get("csrf")):
        return _list(request, c, user, status=403, error=strings(language(request))["csrf_failed"])
    title = form.get("title")
    title = title if isinstance(title, str) else ""
    project_id = form.get("project_id")
    project_id = project_id if isinstance(project_id, str) and project_id else None
    try:
        generation_ids = None
        if project_id is not None and form.get("fill") == "1":
            generation_ids = c.portfolios.projects.generation_ids(user.id, project_id)
        detail = c.portfolios.create_portfolio(
            user.id, title, project_id=project_id, generation_ids=generation_ids
        )
    except DomainError as exc:
        status = 404 if isinstance(exc, NotFound) else 422
        return _list(request, c, user, status=status, error=exc.message, title_value=title)
    return RedirectResponse(f"/portfolios/{detail.portfolio.id}", status_code=303)


@router.get("/portfolios/{portfolio_id}", response_class=HTMLResponse)
def portfolio_page(
    portfolio_id: str, request: Request, c: ContainerDep, user: PageUser
) -> HTMLResponse:
    """The editor: order, captions, cover, title; publish, revoke, download."""
    try:
        detail = c.portfolios.get_portfolio(user.id, portfolio_id)
    except NotFound:
        return render(request, c, "not_found.html", user=user, status=404, nav="portfolios")
    portfolio = detail.portfolio
    project = None
    if portfolio.project_id:
        try:
            project = c.projects.get_project(user.id, portfolio.project_id)
        except NotFound:
            project = None
    return render(
        request,
        c,
        "portfolio.html",
        user=user,
        nav="portfolios",
        portfolio=portfolio,
        items=detail.items,
        cover=portfolio.cover_asset_id or (detail.items[0].asset_id if detail.items else None),
        share_url=c.portfolios.share_url(portfolio.share_token),
        project=project,
    )


def _public_missing(request: Request, c: ContainerDep) -> HTMLResponse:
    response = render(request, c, "public_portfolio.html", status=404, missing=True)
    response.headers.update(PUBLIC_HEADERS)
    return response


@router.get("/p/{token}", response_class=HTMLResponse)
def public_portfolio(token: str, request: Request, c: ContainerDep) -> HTMLResponse:
    """A published portfolio, read-only, for anyone with the link."""
    try:
        detail = c.portfolios.shared(token)
    except NotFound:
        return _public_missing(request, c)
    portfolio = detail.portfolio
    public_ids = {i.asset_id for i in detail.items}
    cover = portfolio.cover_asset_id if portfolio.cover_asset_id in public_ids else None
    response = render(
        request,
        c,
        "public_portfolio.html",
        missing=False,
        token=token,
        title=portfolio.title,
        description=portfolio.description,
        items=detail.items,
        cover=cover or (detail.items[0].asset_id if detail.items else None),
    )
    response.headers.update(PUBLIC_HEADERS)
    return response


def _public_file(
    request: Request, c: ContainerDep, token: str, asset_id: str, *, thumbnail: bool
) -> Response:
    try:
        asset = c.portfolios.shared_asset(token, asset_id)
        stream = c.assets.open(asset, thumbnail=thumbnail)
    except NotFound:
        return _public_missing(request, c)
    except StorageUnavailable:
        return Response("unavailable", status_code=503, media_type="text/plain")
    headers = {
        **SECURITY_HEADERS,
        **PUBLIC_HEADERS,
        "Content-Disposition": "inline",
    }
    media_type = thumbnail_media_type(asset.thumbnail_key or "") if thumbnail else asset.media_type
    return StreamingResponse(file_chunks(stream), media_type=media_type, headers=headers)


@router.get("/p/{token}/i/{asset_id}")
def public_image(token: str, asset_id: str, request: Request, c: ContainerDep) -> Response:
    """A full-size file of a published portfolio's item."""
    return _public_file(request, c, token, asset_id, thumbnail=False)


@router.get("/p/{token}/t/{asset_id}")
def public_thumbnail(token: str, asset_id: str, request: Request, c: ContainerDep) -> Response:
    """A thumbnail of a published portfolio's item."""
    return _public_file(request, c, token, asset_id, thumbnail=True)
