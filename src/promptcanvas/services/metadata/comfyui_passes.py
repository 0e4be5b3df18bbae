"""Each sampler node of a ComfyUI graph, in execution order, with everything that fed it.

A sampler is a KSampler-like node (seed, steps, positive) or a SamplerCustomAdvanced-like node
(guider, sigmas); its guider, noise, sampler and sigmas nodes are read for the settings the
node does not hold itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptcanvas.services.metadata.comfyui_nodes import (
    SAMPLERS,
    SEED_KEYS,
    sampler_of_object,
    scheduler_of_object,
)
from promptcanvas.services.metadata.comfyui_walk import MAX_DEPTH, Walker, add_text
from promptcanvas.services.metadata.comfyui_workflow import Link, Node

MAX_SAMPLERS = 256


@dataclass(frozen=True, slots=True)
class Pass:
    """What one sampler node was fed, before it becomes a SamplerPass."""

    node: Node
    seed: Any
    steps: Any
    cfg: Any
    sampler: Any
    scheduler: Any
    denoise: Any
    model: str | None
    positive: list[str]
    negative: list[str]
    loras: list[tuple[str, Any, Any]]
    latent: Any


def sampler_nodes(walker: Walker) -> list[Node]:
    """Sampler nodes in execution order: one feeding another comes first, then by node id."""
    found = [node for node in walker.nodes.values() if _is_sampler(node)]
    found = sorted(found, key=lambda node: _id_key(node.id))[:MAX_SAMPLERS]
    levels = _levels(walker, {node.id for node in found})
    return sorted(found, key=lambda node: (levels.get(node.id, 0), _id_key(node.id)))


def _is_sampler(node: Node) -> bool:
    ins = node.inputs
    if node.type in SAMPLERS or ("guider" in ins and "sigmas" in ins):
        return True
    return "positive" in ins and "steps" in ins and any(k in ins for k in SEED_KEYS)


def _id_key(node_id: str) -> tuple[int, tuple[int, ...], str]:
    # API ids are numbers as strings ("12", or "45:12" inside subgraphs); sort them as numbers.
    try:
        return 0, tuple(int(part) for part in node_id.split(":")), ""
    except ValueError:
        return 1, (), node_id


def _levels(walker: Walker, samplers: set[str]) -> dict[str, int]:
    # level(n) = the most samplers on any path upstream of n. Depth-first with an explicit stack
    # (deep chains cannot exhaust Python's); an edge back into the current path (a cycle) is
    # ignored, and every node visited spends the walker's budget.
    level: dict[str, int] = {}
    for start in sorted(samplers, key=_id_key):
        if start in level:
            continue
        path = {start}
        stack = [(start, _sources(walker, start), 0)]
        while stack:
            node_id, sources, index = stack.pop()
            if index < len(sources):
                stack.append((node_id, sources, index + 1))
                nxt = sources[index]
                if nxt not in level and nxt not in path and walker.budget > 0:
                    walker.budget -= 1
                    path.add(nxt)
                    stack.append((nxt, _sources(walker, nxt), 0))
                continue
            path.discard(node_id)
            upstream = (level[s] + (s in samplers) for s in sources if s in level)
            level[node_id] = max(upstream, default=0)
    return level


def _sources(walker: Walker, node_id: str) -> list[str]:
    node = walker.nodes.get(node_id)
    links = node.inputs.values() if node is not None else ()
    return [v.node for v in links if isinstance(v, Link) and v.node in walker.nodes]


def read_pass(walker: Walker, node: Node) -> Pass:
    """Everything one sampler node was fed, through its guider, noise, sampler and sigmas."""
    ins = node.inputs
    positive, negative = [ins.get("positive")], ins.get("negative")
    model, cfg = ins.get("model"), ins.get("cfg")
    guider = walker.node(ins.get("guider"))
    if guider is not None:
        g = guider.inputs
        positive = [g.get("positive", g.get("conditioning", g.get("cond1"))), g.get("cond2")]
        negative, model = g.get("negative"), g.get("model")
        cfg = g.get("cfg", g.get("cfg_conds"))
    texts: list[str] = []
    for source in positive:
        for text in walker.prompts(source):
            add_text(texts, text)
    seed_node = walker.node(ins.get("noise")) or node
    seed = next(
        (walker.scalar(seed_node.inputs[k], k) for k in SEED_KEYS if k in seed_node.inputs), None
    )
    sampler = walker.scalar(ins.get("sampler_name"), "sampler_name")
    chosen = walker.node(ins.get("sampler"))
    if chosen is not None:
        name = chosen.inputs.get("sampler_name")
        sampler = walker.scalar(name, "sampler_name") if name else sampler_of_object(chosen.type)
    schedule = {key: walker.scalar(ins.get(key), key) for key in ("scheduler", "steps", "denoise")}
    _read_sigmas(walker, ins.get("sigmas"), schedule)
    model_name, loras = walker.model(model)
    return Pass(
        node=node,
        seed=seed,
        steps=schedule["steps"],
        cfg=walker.scalar(cfg, "cfg"),
        sampler=sampler,
        scheduler=schedule["scheduler"],
        denoise=schedule["denoise"],
        model=model_name,
        positive=texts,
        negative=walker.prompts(negative),
        loras=loras,
        latent=ins.get("latent_image", ins.get("latent")),
    )


def _read_sigmas(walker: Walker, value: Any, schedule: dict[str, Any]) -> None:
    """Fill scheduler/steps/denoise the sampler lacks from its SIGMAS chain (split, flip...)."""
    for _ in range(MAX_DEPTH):
        node = walker.node(value)
        if node is None:
            return
        for key in ("scheduler", "steps", "denoise"):
            if schedule[key] is None:
                schedule[key] = walker.scalar(node.inputs.get(key), key)
        if schedule["scheduler"] is None:
            schedule["scheduler"] = scheduler_of_object(node.type)
        value = node.inputs.get("sigmas")
