"""Sign-in by one-time link, sign-out, and the start page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from promptcanvas.domain.errors import Unauthenticated
from promptcanvas.entrypoints.api.deps import ContainerDep

router = APIRouter(include_in_schema=False)
SESSION_COOKIE = "pc_session"
_TEMPLATES = Path(__file__).parent / "templates"

STRINGS = {
    "en": {
        "title": "PromptCanvas",
        "signed_in": "Signed in as",
        "sign_out": "Sign out",
        "signed_out": "You are not signed in.",
        "how_to_sign_in": "Open the login link printed by `promptcanvas serve`, or run "
        "`promptcanvas users login-link NAME`.",
        "link_invalid": "This login link is invalid, already used, or expired.",
        "api_docs": "API documentation",
        "prompts": "prompts",
    },
    "ko": {
        "title": "PromptCanvas",
        "signed_in": "로그인 사용자:",
        "sign_out": "로그아웃",
        "signed_out": "로그인되어 있지 않습니다.",
        "how_to_sign_in": "`promptcanvas serve`가 출력한 로그인 링크를 열거나 "
        "`promptcanvas users login-link 이름`을 실행하세요.",
        "link_invalid": "로그인 링크가 잘못되었거나 이미 사용되었거나 만료되었습니다.",
        "api_docs": "API 문서",
        "prompts": "프롬프트",
    },
}


def _environment(override_dir: Path | None) -> Environment:
    loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
    loaders.append(FileSystemLoader(str(_TEMPLATES)))
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True))


def language(request: Request) -> str:
    """?lang=ko|en, else the browser's Accept-Language, else English."""
    lang = request.query_params.get("lang")
    if lang in STRINGS:
        return lang
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in STRINGS:
            return code
    return "en"


def render(
    request: Request, c: ContainerDep, name: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render a template with the request's language strings."""
    env = _environment(c.settings.data_dir / "templates")
    lang = language(request)
    html = env.get_template(name).render(t=STRINGS[lang], lang=lang, **context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
        },
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, c: ContainerDep) -> HTMLResponse:
    """Who is signed in and where to go next."""
    session = request.cookies.get(SESSION_COOKIE)
    user = c.users.user_for_session(session) if session else None
    return render(request, c, "home.html", user=user)


@router.get("/auth/login")
def login(request: Request, c: ContainerDep, token: str = "") -> Response:
    """Exchange a one-time login token for a session cookie."""
    try:
        _user, session = c.users.login_with_token(token)
    except Unauthenticated:
        return render(request, c, "home.html", status=401, user=None, error=True)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=c.settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/auth/logout")
def logout(request: Request, c: ContainerDep) -> Response:
    """End the browser session."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        c.users.logout(session)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
