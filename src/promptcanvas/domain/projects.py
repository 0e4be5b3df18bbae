"""Projects group prompts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from promptcanvas.domain.errors import InvalidInput
from promptcanvas.domain.text import normalize

MAX_PROJECT_NAME = 200
MAX_DESCRIPTION = 4_000


@dataclass
class Project:
    """A named group of prompts owned by one user."""

    id: str
    owner_id: str
    name: str
    description: str | None
    created_at: datetime
    prompt_count: int = 0


def clean_project_name(name: str) -> str:
    """Project names are 1-200 characters after trimming."""
    clean = " ".join(normalize(name).split())
    if not clean:
        raise InvalidInput("name must not be empty", {"field": "name"})
    if len(clean) > MAX_PROJECT_NAME:
        raise InvalidInput(f"name is longer than {MAX_PROJECT_NAME} characters", {"field": "name"})
    return clean


def clean_description(value: str | None) -> str | None:
    """Optional project description with a length limit."""
    if value is None:
        return None
    text = normalize(value)
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description is longer than {MAX_DESCRIPTION} characters", {"field": "description"}
        )
    return text or None
