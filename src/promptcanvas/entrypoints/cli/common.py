"""Shared CLI helpers: the container, JSON output, error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.domain.errors import DomainError
from promptcanvas.settings import Settings

console = Console()
# Messages are never hard-wrapped: a path or a name split over lines cannot be copied or grepped.
err_console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


@contextmanager
def container() -> Iterator[Container]:
    """A container for one CLI command; domain errors become a message and exit code 1."""
    try:
        c = bootstrap(Settings())
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    try:
        yield c
    except DomainError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        c.close()


def print_json(value: Any) -> None:
    """Print JSON (pydantic models and lists of them too) to stdout."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def run(action: Callable[[Container], T]) -> T:
    """Run an action with a container."""
    with container() as c:
        return action(c)
