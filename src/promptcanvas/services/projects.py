"""Projects: named groups of prompts."""

from __future__ import annotations

from promptcanvas.domain.errors import Conflict, NotFound
from promptcanvas.domain.ids import is_valid_id, new_id
from promptcanvas.domain.projects import Project, clean_description, clean_project_name
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.repositories import UowFactory


class ProjectService:
    """Project use cases."""

    def __init__(self, uow: UowFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def create_project(self, owner_id: str, name: str, description: str | None = None) -> Project:
        """A new project; names are unique per owner."""
        project = Project(
            id=new_id(),
            owner_id=owner_id,
            name=clean_project_name(name),
            description=clean_description(description),
            created_at=self.clock.now(),
        )
        with self.uow() as uow:
            if uow.projects.get_by_name(owner_id, project.name) is not None:
                raise Conflict(f"a project named {project.name!r} exists", {"field": "name"})
            uow.projects.add(project)
            uow.commit()
        return project

    def get_project(self, owner_id: str, project_id: str) -> Project:
        """One of the owner's projects."""
        with self.uow(write=False) as uow:
            project = uow.projects.get(owner_id, project_id) if is_valid_id(project_id) else None
        if project is None:
            raise NotFound("project not found", {"project_id": project_id})
        return project

    def find_by_name(self, owner_id: str, name: str) -> Project | None:
        """The owner's project with this name, if any."""
        with self.uow(write=False) as uow:
            return uow.projects.get_by_name(owner_id, clean_project_name(name))

    def list_projects(self, owner_id: str) -> list[Project]:
        """The owner's projects by name."""
        with self.uow(write=False) as uow:
            return uow.projects.for_owner(owner_id)
