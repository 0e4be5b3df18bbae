"""Sign-in by one-time link, sign-out, the start page, and page-wide error handling."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from promptcanvas.domain.errors import Unauthenticated
from promptcanvas.entrypoints.api.deps import SESSION_COOKIE, ContainerDep
from promptcanvas.entrypoints.web import gallery
from promptcanvas.entrypoints.web.base import (
    STATIC,
    MaybeUser,
    SignInRequired,
    form_csrf_ok,
    render,
    set_cookie,
)

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Static files, and the sign-in page for any page opened without a session."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _exc: SignInRequired) -> HTMLResponse:
        return render(request, request.app.state.container, "home.html", status=401)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, c: ContainerDep, user: MaybeUser) -> HTMLResponse:
    """The gallery when signed in; otherwise how to sign in."""
    if user is None:
        return render(request, c, "home.html")
    return gallery.gallery_page(request, c, user)


@router.get("/auth/login")
def login(request: Request, c: ContainerDep, token: str = "") -> Response:
    """Exchange a one-time login token for a session cookie."""
    try:
        _user, session = c.users.login_with_token(token)
    except Unauthenticated:
        return render(request, c, "home.html", status=401, error=True)
    response = RedirectResponse("/", status_code=303)
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        session,
        max_age=c.settings.session_ttl_seconds,
        httponly=True,
    )
    return response


@router.post("/auth/logout")
async def logout(request: Request, c: ContainerDep) -> Response:
    """End the browser session (a form post carrying the page's CSRF token)."""
    session = request.cookies.get(SESSION_COOKIE)
    form = await request.form()
    if session and not form_csrf_ok(request, form.get("csrf")):
        return render(request, c, "home.html", status=403, csrf_error=True)
    if session:
        c.users.logout(session)
    response = RedirectResponse("/", status_code=303)
    set_cookie(response, request, SESSION_COOKIE, "", max_age=None, httponly=True)
    return response
