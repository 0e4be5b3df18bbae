"""Project pages: the list with a create form, and one project's outputs and portfolios."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from promptcanvas.domain.errors import Conflict, DomainError, NotFound
from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.web.base import PageUser, form_csrf_ok, language, render
from promptcanvas.entrypoints.web.strings import strings

router = APIRouter(include_in_schema=False)


def _list(
    request: Request,
    c: ContainerDep,
    user: User,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        c,
        "projects.html",
        user=user,
        nav="projects",
        status=status,
        projects=c.portfolios.projects.overviews(user.id),
        error=error,
        form=form or {"name": "", "description": ""},
    )


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, c: ContainerDep, user: PageUser) -> HTMLResponse:
    """The user's projects with prompt and output counts, and a form to make one."""
    return _list(request, c, user)


@router.post("/projects", response_class=HTMLResponse)
async def create_project_form(request: Request, c: ContainerDep, user: PageUser) -> Response:
    """Create a project from the form, then open it."""
    form = await request.form()
    if not form_csrf_ok(request, form.get("csrf")):
        return _list(request, c, user, status=403, error=strings(language(request))["csrf_failed"])
    values = {k: v if isinstance(v := form.get(k), str) else "" for k in ("name", "description")}
    try:
        project = c.projects.create_project(user.id, values["name"], values["description"] or None)
    except DomainError as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return _list(request, c, user, status=status, error=exc.message, form=values)
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project_page(project_id: str, request: Request, c: ContainerDep, user: PageUser) -> Response:
    """A project's newest outputs and its portfolios, with links to the gallery and timeline."""
    try:
        detail = c.portfolios.projects.detail(user.id, project_id)
    except NotFound:
        return render(request, c, "not_found.html", user=user, status=404, nav="projects")
    return render(
        request,
        c,
        "project.html",
        user=user,
        nav="projects",
        project=detail.project,
        output_count=detail.output_count,
        outputs=detail.outputs,
        portfolios=detail.portfolios,
    )
