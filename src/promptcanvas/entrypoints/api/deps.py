"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from promptcanvas.bootstrap import Container
from promptcanvas.domain.errors import Forbidden, Unauthenticated
from promptcanvas.domain.users import User, csrf_matches

SESSION_COOKIE = "pc_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_container(request: Request) -> Container:
    """The container the app was built with."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_current_user(request: Request, container: ContainerDep) -> User:
    """The user of `Authorization: Bearer <key>`, else of the browser session cookie.

    A browser session may change state only with its CSRF token in the `X-CSRF-Token` header
    (the web UI's scripts send it); a bearer key needs none, as browsers never send it unasked.
    """
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("send an API key as `Authorization: Bearer <key>`")
        return container.users.authenticate_key(secret.strip())
    session = request.cookies.get(SESSION_COOKIE)
    user = container.users.user_for_session(session) if session else None
    if session is None or user is None:
        raise Unauthenticated("send an API key as `Authorization: Bearer <key>`, or sign in")
    if request.method not in SAFE_METHODS and not csrf_matches(
        session, request.headers.get(CSRF_HEADER, "")
    ):
        raise Forbidden("this browser request lacks its CSRF token; reload the page")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
