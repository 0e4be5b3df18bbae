"""Contract tests fuzz the API on SQLite only: the schema and the routes are the same on
PostgreSQL, and the integration suite already runs every route there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A clean, migrated SQLite database (overrides the SQLite/PostgreSQL pair)."""
    path = tmp_path / "promptcanvas.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"
