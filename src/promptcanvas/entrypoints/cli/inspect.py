"""`promptcanvas inspect FILE...`: the generation metadata inside image files, any tool's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from promptcanvas.domain.errors import DomainError
from promptcanvas.entrypoints.cli.common import console, err_console, print_json
from promptcanvas.services.metadata.reader import read
from promptcanvas.settings import Settings

_SETTINGS = (
    ("seed", "seed"),
    ("steps", "steps"),
    ("sampler", "sampler"),
    ("scheduler", "scheduler"),
    ("cfg_scale", "cfg"),
    ("denoise", "denoise"),
)


def inspect_files(
    files: Annotated[
        list[str],
        typer.Argument(
            help="PNG, JPEG or WebP files; one that cannot be read is reported, the rest still are",
            show_default=False,
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: an object for one file, a list for several")
    ] = False,
) -> None:
    """Show the prompt and settings inside image files (exit code 1 only if every file failed)."""
    try:
        max_pixels = Settings().max_image_pixels
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    results = [_inspect(name, max_pixels) for name in files]
    if as_json:
        print_json(results[0] if len(results) == 1 else results)
    else:
        for i, result in enumerate(results):
            if i:
                console.print()
            _show(result)
    if all("error" in result for result in results):
        raise typer.Exit(1)


def _inspect(name: str, max_pixels: int) -> dict[str, Any]:
    try:
        reading = read(Path(name).read_bytes(), max_pixels=max_pixels)
    except DomainError as exc:
        return {"file": name, "error": exc.message}
    except OSError as exc:
        return {"file": name, "error": exc.strerror or str(exc)}
    c = reading.carriers
    image = {"format": c.format, "width": c.width, "height": c.height, "mode": c.mode}
    return {"file": name, "image": image, **reading.metadata.to_dict()}


def _show(result: dict[str, Any]) -> None:
    """A readable summary; texts go through Text objects so [brackets] in prompts stay literal."""
    console.print(Text(result["file"], style="bold"), soft_wrap=True)
    if "error" in result:
        _line("error", result["error"], style="red")
        return
    image = result["image"]
    _line("image", f"{image['format']} {image['width']}x{image['height']} {image['mode']}")
    _line("generator", result["generator"] or result.get("message", ""))
    _line("prompt", result["prompt"])
    _line("negative", result["negative_prompt"])
    settings = [f"{label} {result[key]}" for key, label in _SETTINGS if result[key] is not None]
    if result["width"] and result["height"]:
        settings.append(f"size {result['width']}x{result['height']}")
    _line("settings", ", ".join(settings))
    model = result["model"]
    if model or result["model_hash"]:
        digest = result["model_hash"]
        _line("model", f"{model or '?'}" + (f" [{digest}]" if digest else ""))
    for lora in result["loras"]:
        weight = "" if lora["weight"] is None else f" {lora['weight']:g}"
        _line(lora["kind"], f"{lora['name']}{weight}")
    for n, sampler in enumerate(result["samplers"], start=1):
        parts = [f"{label} {sampler[key]}" for key, label in _SETTINGS if sampler[key] is not None]
        if sampler["model"] and sampler["model"] != model:
            parts.append(f"model {sampler['model']}")
        _line(f"pass {n}", ", ".join(parts))
        # A pass's texts are shown only where they differ from the record's own.
        if sampler["prompt"] and sampler["prompt"] != result["prompt"]:
            _line("  prompt", sampler["prompt"])
        if sampler["negative_prompt"] and sampler["negative_prompt"] != result["negative_prompt"]:
            _line("  negative", sampler["negative_prompt"])
    provenance = result.get("provenance")
    if provenance:
        verdict = "declares AI-generated" if provenance.get("ai_generated") else "not AI-declared"
        by = provenance.get("by")
        _line("provenance", f"{verdict}" + (f" by {by}" if by else ""))
    if result["extra"].get("parse_error"):
        _line("warning", str(result["extra"]["parse_error"]), style="yellow")


def _line(label: str, value: object, style: str = "") -> None:
    if value is None or value == "":
        return
    line = Text(f"  {label:<10} ", style="dim")
    line.append(str(value), style=style)
    console.print(line, soft_wrap=True)
