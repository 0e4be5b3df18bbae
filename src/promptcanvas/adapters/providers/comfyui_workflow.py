"""ComfyUI workflow templates: an API-format graph and how a request fills it.

A workflow is the JSON ComfyUI's "Save (API Format)" writes: `{node_id: {"class_type": ...,
"inputs": {...}}}`, where an input is a literal or a link `[other_node_id, output_index]`.
A template is filled in one of two ways, never both:

- **Placeholders.** If any string input anywhere in the graph contains `{{name}}`, only
  placeholders are filled. An input that is exactly one placeholder gets a typed value (a
  number for `{{seed}}`); a placeholder inside longer text is replaced as text
  (`"masterpiece, {{prompt}}"`). Names: prompt, negative_prompt, seed, steps, cfg, sampler,
  scheduler, width, height, batch_size, checkpoint. `{{prompt}}`, `{{width}}` and
  `{{height}}` are required; a request may only set what the template has a placeholder for
  (without `{{batch_size}}` it makes one image per request).
- **Nodes.** Otherwise the graph must have exactly one `KSampler`, whose `positive` and
  `negative` inputs link to `CLIPTextEncode` nodes and whose `latent_image` links to an
  `EmptyLatentImage`; those get the prompt, negative prompt, seed, steps, cfg, sampler,
  scheduler, size and batch size, and a single `CheckpointLoaderSimple` (if any) gets the
  checkpoint. Steps, cfg, sampler and scheduler the request leaves unset keep the template's.

Templates are checked when loaded, so a broken one fails at start-up, not on a user's job.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FIELDS = (
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "cfg",
    "sampler",
    "scheduler",
    "width",
    "height",
    "batch_size",
    "checkpoint",
)
REQUIRED_PLACEHOLDERS = ("prompt", "width", "height")
# What a placeholder template gets for the optional values a request leaves unset.
PLACEHOLDER_DEFAULTS: Mapping[str, Any] = {
    "steps": 20,
    "cfg": 7.0,
    "sampler": "euler",
    "scheduler": "normal",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
_LATENTS = ("EmptyLatentImage", "EmptySD3LatentImage")
# Which KSampler input each sampler setting lands in.
_SAMPLER_INPUTS = {
    "seed": "seed",
    "steps": "steps",
    "cfg": "cfg",
    "sampler": "sampler_name",
    "scheduler": "scheduler",
}

# The built-in text-to-image graph: checkpoint -> prompts -> empty latent -> sampler -> decode.
DEFAULT_WORKFLOW: Mapping[str, Any] = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "model.safetensors"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
    "4": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": 512, "height": 512, "batch_size": 1},
    },
    "5": {
        "class_type": "KSampler",
        "inputs": {
            "model": ["1", 0],
            "positive": ["2", 0],
            "negative": ["3", 0],
            "latent_image": ["4", 0],
            "seed": 0,
            "steps": 20,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
        },
    },
    "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
    "7": {
        "class_type": "SaveImage",
        "inputs": {"images": ["6", 0], "filename_prefix": "PromptCanvas"},
    },
}


@dataclass(frozen=True)
class Fill:
    """The values one request puts into a template; None keeps the template's own."""

    prompt: str
    negative_prompt: str
    seed: int
    width: int
    height: int
    batch_size: int
    checkpoint: str
    steps: int | None = None
    cfg: float | None = None
    sampler: str | None = None
    scheduler: str | None = None


class Workflow:
    """A checked template; `takes` names the values it can be given."""

    def __init__(self, graph: Mapping[str, Any], *, source: str = "the built-in workflow") -> None:
        self.source = source
        self._graph = _checked_graph(graph, source)
        names = _placeholders(self._graph)
        self.uses_placeholders = bool(names)
        # Node mode: field -> the (node_id, input) pairs it is written to.
        self._targets: dict[str, list[tuple[str, str]]] = {}
        if names:
            unknown = sorted(names - set(FIELDS))
            if unknown:
                raise ValueError(
                    f"{source} has unknown placeholder(s) {', '.join(unknown)}; "
                    f"known: {', '.join(FIELDS)}"
                )
            missing = [name for name in REQUIRED_PLACEHOLDERS if name not in names]
            if missing:
                raise ValueError(f"{source} needs placeholder(s) {', '.join(missing)}")
            self.takes = frozenset(names)
        else:
            self._targets = _node_targets(self._graph, source)
            self.takes = frozenset(self._targets)

    @classmethod
    def load(cls, path: Path) -> Workflow:
        """Read a template from a JSON file; ValueError says what is wrong with it."""
        try:
            graph = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read ComfyUI workflow {path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"ComfyUI workflow {path} is not valid JSON: {exc}") from None
        return cls(graph, source=f"workflow {path}")

    def fill(self, values: Fill) -> tuple[dict[str, Any], dict[str, Any]]:
        """The graph to queue, and the values it really holds for each field it takes."""
        graph = copy.deepcopy(self._graph)
        given = asdict(values)
        if self.uses_placeholders:
            used = {
                name: given[name] if given[name] is not None else PLACEHOLDER_DEFAULTS[name]
                for name in self.takes
            }
            for node in graph.values():
                inputs = node["inputs"]
                for key, value in inputs.items():
                    if isinstance(value, str):
                        inputs[key] = _substitute(value, used)
            return graph, used
        used = {}
        for name, targets in self._targets.items():
            value = given[name]
            for node_id, key in targets:
                if value is None:
                    value = self._graph[node_id]["inputs"][key]
                else:
                    graph[node_id]["inputs"][key] = value
            used[name] = value
        return graph, used


def _substitute(text: str, values: Mapping[str, Any]) -> Any:
    whole = _PLACEHOLDER.fullmatch(text)
    if whole:
        return values[whole.group(1)]
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def _checked_graph(graph: Any, source: str) -> dict[str, Any]:
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), list):
        raise ValueError(
            f"{source} is in ComfyUI's UI format; export it with 'Save (API Format)' instead"
        )
    if not isinstance(graph, dict) or not graph:
        raise ValueError(f"{source} must be a JSON object of nodes (ComfyUI API format)")
    for node_id, node in graph.items():
        if (
            not isinstance(node, dict)
            or not isinstance(node.get("class_type"), str)
            or not isinstance(node.get("inputs"), dict)
        ):
            raise ValueError(f"{source}: node {node_id!r} needs a class_type and an inputs object")
    return copy.deepcopy(graph)


def _placeholders(graph: Mapping[str, Any]) -> set[str]:
    return {
        name
        for node in graph.values()
        for value in node["inputs"].values()
        if isinstance(value, str)
        for name in _PLACEHOLDER.findall(value)
    }


def _node_targets(graph: Mapping[str, Any], source: str) -> dict[str, list[tuple[str, str]]]:
    def linked(node_id: str, key: str, kinds: tuple[str, ...]) -> str:
        link = graph[node_id]["inputs"].get(key)
        target = str(link[0]) if isinstance(link, list) and link else None
        if target is None or graph.get(target, {}).get("class_type") not in kinds:
            raise ValueError(
                f"{source}: the KSampler's {key!r} input must link to {' or '.join(kinds)}; "
                "for other graphs, mark the inputs with placeholders such as {{prompt}}"
            )
        return target

    samplers = [i for i, node in graph.items() if node["class_type"] == "KSampler"]
    if len(samplers) != 1:
        raise ValueError(
            f"{source} has {len(samplers)} KSampler nodes; a template without placeholders "
            "needs exactly one (or mark the inputs with placeholders such as {{seed}})"
        )
    sampler = samplers[0]
    latent = linked(sampler, "latent_image", _LATENTS)
    positive = linked(sampler, "positive", ("CLIPTextEncode",))
    negative = linked(sampler, "negative", ("CLIPTextEncode",))
    if positive == negative:
        raise ValueError(f"{source}: the prompt and the negative prompt share one CLIPTextEncode")
    targets = {
        "prompt": [(positive, "text")],
        "negative_prompt": [(negative, "text")],
        "width": [(latent, "width")],
        "height": [(latent, "height")],
        "batch_size": [(latent, "batch_size")],
    }
    targets.update({field: [(sampler, key)] for field, key in _SAMPLER_INPUTS.items()})
    loaders = [i for i, node in graph.items() if node["class_type"] == "CheckpointLoaderSimple"]
    if len(loaders) > 1:
        raise ValueError(f"{source} has {len(loaders)} CheckpointLoaderSimple nodes; use one")
    if loaders:
        targets["checkpoint"] = [(loaders[0], "ckpt_name")]
    return targets
