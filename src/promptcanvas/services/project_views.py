"""What the project pages show: counts of prompts and outputs, newest outputs, portfolios."""

from __future__ import annotations

from dataclasses import dataclass

from promptcanvas.domain.errors import NotFound
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.domain.portfolios import MAX_ITEMS
from promptcanvas.domain.projects import Project
from promptcanvas.ports.portfolios import OutputRef, PortfolioSummary
from promptcanvas.ports.repositories import UowFactory


@dataclass(frozen=True)
class ProjectOverview:
    """A project with how many prompts and files it holds."""

    project: Project
    output_count: int


@dataclass(frozen=True)
class ProjectDetail:
    """A project's newest outputs and its portfolios."""

    project: Project
    output_count: int
    outputs: list[OutputRef]
    portfolios: list[PortfolioSummary]


class ProjectViews:
    """Read-only project views, scoped to the owner."""

    def __init__(self, uow: UowFactory) -> None:
        self.uow = uow

    def overviews(self, owner_id: str) -> list[ProjectOverview]:
        """The owner's projects with their prompt and file counts."""
        with self.uow(write=False) as uow:
            projects = uow.projects.for_owner(owner_id)
            counts = uow.portfolios.project_output_counts(owner_id)
        return [ProjectOverview(p, counts.get(p.id, 0)) for p in projects]

    def detail(self, owner_id: str, project_id: str, *, limit: int = 60) -> ProjectDetail:
        """A project's newest outputs and portfolios (NotFound for anyone else's)."""
        with self.uow(write=False) as uow:
            project = uow.projects.get(owner_id, project_id) if is_valid_id(project_id) else None
            if project is None:
                raise NotFound("project not found", {"project_id": project_id[:64]})
            outputs = uow.portfolios.project_outputs(owner_id, project_id, limit)
            count = uow.portfolios.project_output_counts(owner_id).get(project_id, 0)
            shelf = uow.portfolios.summaries(owner_id, limit=100, project_id=project_id)
        return ProjectDetail(project, count, outputs, shelf)

    def generation_ids(self, owner_id: str, project_id: str) -> list[str]:
        """The generations of a project's newest files, oldest first (to start a portfolio)."""
        detail = self.detail(owner_id, project_id, limit=MAX_ITEMS)
        seen: dict[str, None] = {}
        for ref in reversed(detail.outputs):
            seen.setdefault(ref.generation_id, None)
        return list(seen)
