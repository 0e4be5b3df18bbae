"""What the prompt, compare and batch pages show, built from service results as plain dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.diff import TextDiff
from promptcanvas.domain.jobs import Target
from promptcanvas.domain.prompts import Prompt, PromptDiff
from promptcanvas.ports.repositories import LineageNode
from promptcanvas.services.library import Output
from promptcanvas.services.outputs import a1111_parameters
from promptcanvas.services.providers import ProviderRegistry
from promptcanvas.services.similarity import Figures, first_image

SNIPPET = 90


def iso(value: datetime | None) -> str | None:
    """A timestamp as ISO 8601 in UTC, for `<time datetime>` (stored naive values are UTC)."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat()


def snippet(text: str, limit: int = SNIPPET) -> str:
    """The first words of a text, for alt text and lists."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def target_label(g: Generation) -> str:
    """provider:model@version of a generation."""
    return str(Target(g.provider, g.model or "", g.model_version))


def a1111_text(prompt: Prompt, g: Generation, image: Asset | None) -> str:
    """The generation's settings as AUTOMATIC1111 `parameters` text (what its PNG carries)."""
    params = g.parameters
    width, height = params.get("width"), params.get("height")
    if not (width and height) and image is not None:
        width, height = image.width, image.height
    return a1111_parameters(
        prompt=prompt.text,
        negative_prompt=prompt.negative_text,
        settings=[
            ("Steps", params.get("steps") or 1),
            ("Sampler", params.get("sampler") or g.provider),
            ("CFG scale", params.get("cfg_scale") or 1),
            ("Seed", g.seed),
            ("Size", f"{width}x{height}" if width and height else None),
            ("Model", g.model),
            ("Model version", g.model_version),
            ("Provider", g.provider),
            ("Denoising strength", params.get("strength")),
            ("Version", "PromptCanvas"),
        ],
    )


def prompt_only_text(prompt: Prompt) -> str:
    """A1111 text for a prompt that has no output yet: the wording alone."""
    return a1111_parameters(
        prompt=prompt.text, negative_prompt=prompt.negative_text, settings=[("Steps", 1)]
    )


def output_view(prompt: Prompt, output: Output) -> dict[str, Any]:
    """One output: status, seed, its image (thumbnail and full), parameters, A1111 text."""
    g = output.generation
    image = first_image(output)
    return {
        "id": g.id,
        "status": g.status,
        "ok": g.status == "SUCCESS",
        "seed": g.seed,
        "label": target_label(g),
        "created": iso(g.created_at),
        "error": g.error,
        "image": image_view(image) if image else None,
        "files": [
            {"url": f"/api/v1/assets/{a.id}/content", "type": a.media_type}
            for a in output.assets
            if a is not image
        ],
        "params": {
            k: v for k, v in sorted(g.parameters.items()) if isinstance(v, str | int | float)
        },
        "latency_ms": g.latency_ms,
        "a1111": a1111_text(prompt, g, image),
        "alt": snippet(prompt.text),
    }


def image_view(a: Asset) -> dict[str, Any]:
    """Where an image asset is shown from."""
    full = f"/api/v1/assets/{a.id}/content"
    return {
        "id": a.id,
        "url": full,
        "thumb": f"/api/v1/assets/{a.id}/thumbnail" if a.thumbnail_key else full,
        "width": a.width,
        "height": a.height,
    }


def grouped(prompt: Prompt, outputs: list[Output]) -> list[dict[str, Any]]:
    """Outputs grouped by provider+model+version, groups in order of their first output."""
    groups: dict[str, dict[str, Any]] = {}
    for output in outputs:
        view = output_view(prompt, output)
        group = groups.setdefault(view["label"], {"label": view["label"], "outputs": []})
        group["outputs"].append(view)
    return list(groups.values())


def lineage_tree(nodes: list[LineageNode], current_id: str) -> list[dict[str, Any]]:
    """The revisions as a forest of nested dicts (children in lineage order)."""
    views: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for node in nodes:
        p = node.prompt
        view: dict[str, Any] = {
            "id": p.id,
            "snippet": snippet(p.text, 70),
            "created": iso(p.created_at),
            "current": p.id == current_id,
            "outputs": p.output_count,
            "trashed": p.in_trash,
            "children": [],
        }
        views[p.id] = view
        parent = views.get(p.parent_id) if p.parent_id else None
        (parent["children"] if parent else roots).append(view)
    return roots


def text_diff_view(d: TextDiff) -> dict[str, Any]:
    """A word-level diff as ops for the template."""
    return {
        "ops": [{"op": o.op, "a": o.a, "b": o.b} for o in d.ops],
        "identical": d.identical,
        "inserted": d.inserted_words,
        "deleted": d.deleted_words,
    }


def diff_view(d: PromptDiff) -> dict[str, Any]:
    """Everything that differs between two revisions, shaped like the diff API's answer."""
    return {
        "from_id": d.from_id,
        "to_id": d.to_id,
        "identical": d.identical,
        "text": text_diff_view(d.text),
        "negative_text": text_diff_view(d.negative_text),
        "category": {
            "before": d.category_from,
            "after": d.category_to,
            "changed": d.category_from != d.category_to,
        },
        "tags": {"added": list(d.tags_added), "removed": list(d.tags_removed)},
    }


def image_targets(registry: ProviderRegistry) -> list[dict[str, Any]]:
    """Every image model a generation can run on, with its versions."""
    found = []
    for provider in registry.describe():
        for model in provider["models"]:
            if model["kind"] == "image":
                found.append(
                    {
                        "provider": provider["name"],
                        "model": model["name"],
                        "versions": model["versions"],
                        "default_version": model["default_version"],
                        "seed": model.get("capabilities", {}).get("seed", True),
                    }
                )
    return found


def figure_rows(f: Figures) -> list[dict[str, Any]]:
    """Comparison figures as (label key, value, hint key) rows, in plain language."""
    rows: list[dict[str, Any]] = []
    if f.phash_distance is not None:
        rows.append({"key": "fig_shape", "value": f"{f.phash_distance} / 64", "verdict": _shape(f)})
    if f.colour_distance is not None:
        rows.append({"key": "fig_colour", "value": f"{f.colour_distance:.2f}", "verdict": None})
    if f.dimensions_before or f.dimensions_after:
        rows.append(
            {
                "key": "fig_dimensions",
                "value": f"{f.dimensions_before or '?'} → {f.dimensions_after or '?'}",
                "verdict": None,
            }
        )
    rows.append(
        {
            "key": "fig_bytes",
            "value": f"{_kb(f.bytes_before)} → {_kb(f.bytes_after)} ({_signed_kb(f.bytes_delta)})",
            "verdict": None,
        }
    )
    if f.latency_delta_ms is not None:
        rows.append({"key": "fig_latency", "value": f"{f.latency_delta_ms:+,} ms", "verdict": None})
    if f.cost_delta is not None:
        cost = "0" if f.cost_delta == 0 else f"{f.cost_delta:+.4f} USD"
        rows.append({"key": "fig_cost", "value": cost, "verdict": None})
    return rows


def _shape(f: Figures) -> str:
    distance = f.phash_distance or 0
    if distance <= 8:
        return "verdict_same"
    return "verdict_similar" if distance <= 22 else "verdict_different"


def _kb(size: int) -> str:
    return f"{size / 1024:,.1f} KB"


def _signed_kb(size: int) -> str:
    return f"{size / 1024:+,.1f} KB"
