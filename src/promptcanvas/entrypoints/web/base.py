"""What every page shares: the signed-in user, language, theme, CSRF token and rendering.

Templates load from the data dir's `templates/` first, so a deployer may override any of them.
Pages carry a strict Content-Security-Policy: no inline script or style, so every script is a
file under /static and data for scripts travels in `<script type="application/json">` blocks.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from promptcanvas import __version__
from promptcanvas.domain.users import User, csrf_matches, csrf_token
from promptcanvas.entrypoints.api.deps import SESSION_COOKIE, ContainerDep
from promptcanvas.entrypoints.web.strings import LANGUAGES, strings

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LANG_COOKIE = "pc_lang"
THEME_COOKIE = "pc_theme"
THEMES = ("auto", "light", "dark")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SignInRequired(Exception):
    """A page that needs a signed-in user was opened without a live session."""


@lru_cache(maxsize=8)
def environment(override_dir: Path | None) -> Environment:
    """One Jinja environment per override dir (templates are compiled once, then cached)."""
    loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=True,
    )


def language(request: Request) -> str:
    """?lang=ko|en, else the language chosen earlier (cookie), else the browser's, else English."""
    for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGUAGES:
            return choice
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def theme(request: Request) -> str:
    """The chosen theme: auto (follow the system), light or dark."""
    chosen = request.cookies.get(THEME_COOKIE, "auto")
    return chosen if chosen in THEMES else "auto"


def session_user(request: Request, c: ContainerDep) -> User | None:
    """The user of the browser session, if there is a live one."""
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return None
    return c.users.user_for_session(session)


def require_user(request: Request, c: ContainerDep) -> User:
    """The signed-in user; otherwise the page shows how to sign in (401)."""
    user = session_user(request, c)
    if user is None:
        raise SignInRequired
    return user


PageUser = Annotated[User, Depends(require_user)]
MaybeUser = Annotated[User | None, Depends(session_user)]


def page_csrf(request: Request) -> str:
    """The CSRF token for forms and scripts on this page ("" when not signed in)."""
    session = request.cookies.get(SESSION_COOKIE)
    return csrf_token(session) if session else ""


def form_csrf_ok(request: Request, submitted: object) -> bool:
    """Whether a posted form's `csrf` field matches the browser session."""
    session = request.cookies.get(SESSION_COOKIE)
    return bool(session) and isinstance(submitted, str) and csrf_matches(session or "", submitted)


def render(
    request: Request,
    c: ContainerDep,
    name: str,
    *,
    user: User | None = None,
    status: int = 200,
    nav: str = "",
    **context: Any,
) -> HTMLResponse:
    """Render a page in the request's language with the shared layout's context."""
    lang = language(request)
    env = environment(c.settings.data_dir / "templates")
    html = env.get_template(name).render(
        t=strings(lang),
        lang=lang,
        theme=theme(request),
        user=user,
        csrf=page_csrf(request) if user else "",
        nav=nav,
        version=__version__,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in LANGUAGES:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 86400)
    return response


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int | None,
    httponly: bool = False,
) -> None:
    """Every cookie the server sets: path /, SameSite=Lax, Secure when served over HTTPS.

    `max_age=None` deletes the cookie. Language and theme stay readable by scripts (the theme
    toggle writes the same cookie); the session is HttpOnly.
    """
    secure = request.url.scheme == "https"
    if max_age is None:
        response.delete_cookie(name, path="/", secure=secure, httponly=httponly, samesite="lax")
        return
    response.set_cookie(
        name, value, max_age=max_age, httponly=httponly, samesite="lax", secure=secure, path="/"
    )
