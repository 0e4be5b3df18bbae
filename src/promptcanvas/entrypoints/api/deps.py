"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from promptcanvas.bootstrap import Container
from promptcanvas.domain.errors import Unauthenticated
from promptcanvas.domain.users import User


def get_container(request: Request) -> Container:
    """The container the app was built with."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_current_user(request: Request, container: ContainerDep) -> User:
    """The user of the request's `Authorization: Bearer <key>`; 401 without one."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("send an API key as `Authorization: Bearer <key>`")
    return container.users.authenticate_key(secret.strip())


CurrentUser = Annotated[User, Depends(get_current_user)]
