"""The settings page (`/settings`): providers and their health, API keys, language and theme."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.web.base import (
    THEME_COOKIE,
    THEMES,
    PageUser,
    form_csrf_ok,
    render,
    set_cookie,
)

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, c: ContainerDep, user: User, status: int = 200, **extra: object
) -> HTMLResponse:
    return render(
        request,
        c,
        "settings.html",
        user=user,
        nav="settings",
        status=status,
        providers=c.registry.describe(),
        keys=c.users.keys_for(user.id),
        themes=THEMES,
        **extra,
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, c: ContainerDep, user: PageUser) -> HTMLResponse:
    """Providers (health is fetched by the page's script), API keys, language, theme."""
    return _page(request, c, user)


@router.post("/settings/theme", response_model=None)
async def choose_theme(request: Request, c: ContainerDep, user: PageUser) -> Response:
    """Set the theme cookie from the form (for browsers without script), then show settings."""
    form = await request.form()
    if not form_csrf_ok(request, form.get("csrf")):
        return _page(request, c, user, status=403, form_error="csrf")
    chosen = form.get("theme")
    if chosen not in THEMES:
        return _page(request, c, user, status=400, form_error="theme")
    response = RedirectResponse("/settings", status_code=303)
    set_cookie(response, request, THEME_COOKIE, str(chosen), max_age=365 * 86400)
    return response
