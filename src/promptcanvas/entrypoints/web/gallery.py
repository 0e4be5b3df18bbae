"""The gallery (`/`) and the timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.web.base import render

router = APIRouter(include_in_schema=False)


def gallery_page(request: Request, c: ContainerDep, user: User) -> HTMLResponse:
    """The signed-in start page."""
    return render(request, c, "gallery.html", user=user, nav="gallery")
