"""Run the `promptcanvas` command in-process against one library's environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from promptcanvas.entrypoints.cli.main import app
from promptcanvas.settings import Settings


class Cli:
    """`promptcanvas ...` with PROMPTCANVAS_DATA_DIR and PROMPTCANVAS_DATABASE_URL set."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.env: dict[str, str | None] = {
            "PROMPTCANVAS_DATA_DIR": str(data_dir),
            "PROMPTCANVAS_DATABASE_URL": database_url,
            "PROMPTCANVAS_STORAGE_URL": None,
        }
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> Result:
        """Run a command and check its exit code."""
        result = self.runner.invoke(app, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == code, (result.exit_code, result.output)
        return result

    def json(self, *args: str) -> Any:
        """Run a command with --json and parse what it printed."""
        return json.loads(self(*args, "--json").stdout)

    def settings(self) -> Settings:
        """Settings for the same library, for building the app in-process."""
        return Settings(data_dir=self.data_dir, database_url=self.database_url, storage_url=None)
