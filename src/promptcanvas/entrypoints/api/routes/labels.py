"""/api/v1/projects, /api/v1/tags, /api/v1/categories."""

from __future__ import annotations

from fastapi import APIRouter

from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    LabelCountPublic,
    LabelsPublic,
    ProjectCreate,
    ProjectPublic,
    ProjectsPublic,
    error_responses,
)

router = APIRouter(prefix="/api/v1", tags=["organise"], responses=API_ERRORS)
ERRORS = error_responses(404)


@router.get("/projects", response_model=ProjectsPublic, responses=ERRORS)
def list_projects(user: CurrentUser, c: ContainerDep) -> ProjectsPublic:
    """The caller's projects with prompt counts."""
    return ProjectsPublic(data=[ProjectPublic.of(p) for p in c.projects.list_projects(user.id)])


@router.post(
    "/projects",
    status_code=201,
    response_model=ProjectPublic,
    responses={**ERRORS, **error_responses(409)},
)
def create_project(body: ProjectCreate, user: CurrentUser, c: ContainerDep) -> ProjectPublic:
    """Create a project; names are unique per user."""
    return ProjectPublic.of(c.projects.create_project(user.id, body.name, body.description))


@router.get("/projects/{project_id}", response_model=ProjectPublic, responses=ERRORS)
def get_project(project_id: str, user: CurrentUser, c: ContainerDep) -> ProjectPublic:
    """One project."""
    return ProjectPublic.of(c.projects.get_project(user.id, project_id))


@router.get("/tags", response_model=LabelsPublic, responses=ERRORS)
def list_tags(user: CurrentUser, c: ContainerDep) -> LabelsPublic:
    """Tags in use on live prompts, most used first."""
    return LabelsPublic(data=[LabelCountPublic.of(t) for t in c.library.tags(user.id)])


@router.get("/categories", response_model=LabelsPublic, responses=ERRORS)
def list_categories(user: CurrentUser, c: ContainerDep) -> LabelsPublic:
    """Categories in use on live prompts, most used first."""
    return LabelsPublic(data=[LabelCountPublic.of(t) for t in c.library.categories(user.id)])
