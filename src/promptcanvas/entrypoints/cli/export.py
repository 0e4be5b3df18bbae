"""`promptcanvas export`: a project as a zip of images, manifest.json and prompts.csv."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from promptcanvas.entrypoints.cli.common import console, container, err_console, print_json
from promptcanvas.entrypoints.cli.prompts import JsonOpt, UserOpt, _owner
from promptcanvas.services.exporting import ProjectExporter

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]+")


def _default_output(project: str) -> Path:
    stem = _UNSAFE.sub("_", project).strip(" ._")[:100] or "project"
    return Path(f"{stem}.zip")


def export(
    project: Annotated[str, typer.Option("--project", "-p", help="Project name (or id)")],
    fmt: Annotated[str, typer.Option("--format", help="Archive format: zip")] = "zip",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: <project>.zip)")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Export a project: its images with metadata embedded, manifest.json and prompts.csv."""
    if fmt.lower() != "zip":
        raise typer.BadParameter(f"{fmt!r} is not supported; use zip", param_hint="--format")
    target = output or _default_output(project)
    if target.exists() and not force:
        err_console.print(f"[red]error:[/red] {target} exists; pass --force to overwrite it")
        raise typer.Exit(1)
    partial = target.with_name(target.name + ".partial")
    with container() as c:
        owner = _owner(c, user)
        exporter = ProjectExporter(c.library, c.projects, c.assets, c.clock)
        found = exporter.find_project(owner, project)
        try:
            with (
                partial.open("wb") as out,
                Progress(
                    SpinnerColumn(), TextColumn("{task.description}"), console=err_console
                ) as progress,
            ):
                task = progress.add_task(f"exporting {found.name}", total=None)

                def step(files: int) -> None:
                    progress.update(task, description=f"exporting {found.name}: {files} files")

                summary = exporter.export_zip(owner, found, out, step)
            # Only a finished archive takes the name: an interrupted export leaves no half zip.
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    result = {
        "file": str(target),
        "project": found.name,
        "prompts": summary.prompts,
        "generations": summary.generations,
        "files": summary.files,
        "image_bytes": summary.image_bytes,
    }
    if as_json:
        print_json(result)
    else:
        console.print(
            f"exported {summary.files} files from {summary.generations} generations of "
            f"{summary.prompts} prompts in {found.name!r} to {target}"
        )
