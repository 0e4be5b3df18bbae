"""ComfyUI graphs (`prompt` API graph, `workflow` UI graph) read into a GenerationMetadata.

The `prompt` graph is preferred (it holds the values the server ran); the `workflow` graph is
read when `prompt` is missing, unreadable or has no sampler. Every sampler node becomes a
SamplerPass in execution order. The top-level fields come from the primary pass, which is the
first pass in that order (the base pass of a hires-fix or refiner graph); when several prompt
texts feed one pass (area composition), they are joined with newlines and also kept one by one
in extra["prompt_parts"] keyed by sampler node id.
"""

from __future__ import annotations

import logging
from typing import Any

from promptcanvas.services.metadata._values import to_float, to_int
from promptcanvas.services.metadata.comfyui_nodes import MODEL_NAME_KEYS
from promptcanvas.services.metadata.comfyui_passes import Pass, read_pass, sampler_nodes
from promptcanvas.services.metadata.comfyui_walk import Walker
from promptcanvas.services.metadata.comfyui_workflow import Graph, load_json, to_graph
from promptcanvas.services.metadata.record import GenerationMetadata, Lora, SamplerPass

GENERATOR = "ComfyUI"
CHUNKS = ("prompt", "workflow")
log = logging.getLogger(__name__)

# Settings with no field of their own, collected graph-wide: node type -> (input, extra key).
GRAPH_EXTRAS: dict[str, tuple[tuple[str, str], ...]] = {
    "VAELoader": (("vae_name", "vae"),),
    "Efficient Loader": (("vae_name", "vae"), ("clip_skip", "clip_skip")),
    "CLIPSetLastLayer": (("stop_at_clip_layer", "clip_skip"),),
    "CLIPLoader": (("clip_name", "clip"),),
    "DualCLIPLoader": (("clip_name1", "clip"), ("clip_name2", "clip")),
    "TripleCLIPLoader": (("clip_name1", "clip"), ("clip_name2", "clip"), ("clip_name3", "clip")),
    "CheckpointLoader": (("config_name", "config"),),
    "UNETLoader": (("weight_dtype", "weight_dtype"),),
    "UpscaleModelLoader": (("model_name", "upscale_model"),),
    "ControlNetLoader": (("control_net_name", "controlnet"),),
    "DiffControlNetLoader": (("control_net_name", "controlnet"),),
    "FluxGuidance": (("guidance", "guidance"),),
    "CLIPTextEncodeFlux": (("guidance", "guidance"),),
    "ModelSamplingSD3": (("shift", "shift"),),
    "ModelSamplingAuraFlow": (("shift", "shift"),),
    "LatentUpscale": (
        ("upscale_method", "upscale_method"), ("width", "upscale_width"),
        ("height", "upscale_height"),
    ),
    "LatentUpscaleBy": (("upscale_method", "upscale_method"), ("scale_by", "upscale_by")),
    "LoadImage": (("image", "input_images"),),
}  # fmt: skip
# Sampler inputs with no SamplerPass field, kept per pass in extra["sampler_settings"].
PASS_EXTRAS = (
    "add_noise", "start_at_step", "end_at_step", "return_with_leftover_noise", "upscale_by",
)  # fmt: skip
NOT_SET = frozenset({"None", "Baked VAE", ""})


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """The generation settings in a ComfyUI `prompt`/`workflow` chunk, or None."""
    chunks, raw = _chunks(texts)
    fallback: GenerationMetadata | None = None
    for name in CHUNKS:
        graph = to_graph(load_json(chunks[name]), name) if name in chunks else None
        if graph is None:
            continue
        try:
            record = read_graph(graph)
        except Exception:  # why: files are untrusted; one odd node must not stop an import
            log.warning("could not walk the ComfyUI %s graph", name, exc_info=True)
            record = GenerationMetadata(generator=GENERATOR, extra={"source": name})
        record.raw = raw
        if record.samplers:
            return record
        fallback = fallback or record
    return fallback


def _chunks(texts: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The graph texts by name ("prompt", "workflow"), and the carriers they came from."""
    chunks: dict[str, str] = {}
    raw: dict[str, str] = {}
    for key, value in texts.items():
        name = str(key).lower()
        if name in CHUNKS and name not in chunks and isinstance(value, str):
            chunks[name], raw[key] = value, value
    return chunks, raw


def read_graph(graph: Graph) -> GenerationMetadata:
    """The record for one graph; raises only on a bug (parse() guards against that)."""
    walker = Walker(graph)
    passes = [read_pass(walker, node) for node in sampler_nodes(walker)]
    record = GenerationMetadata(generator=GENERATOR)
    record.samplers = [_sampler_pass(one) for one in passes]
    record.loras, clip_weights = _loras(passes)
    record.extra = _graph_extras(walker, graph)
    record.extra["source"] = graph.source
    if clip_weights:
        record.extra["lora_clip_strengths"] = clip_weights
    _pass_extras(walker, passes, record.extra)
    if not passes:
        record.model = _any_model(walker, graph)
        return record
    first = record.samplers[0]
    record.prompt, record.negative_prompt = first.prompt, first.negative_prompt
    record.seed, record.steps, record.cfg_scale = first.seed, first.steps, first.cfg_scale
    record.sampler, record.scheduler, record.denoise = first.sampler, first.scheduler, first.denoise
    record.model = first.model
    width, height, batch = walker.latent_size(passes[0].latent)
    record.width, record.height = to_int(width), to_int(height)
    if to_int(batch) is not None:
        record.extra["batch_size"] = to_int(batch)
    return record


def _sampler_pass(one: Pass) -> SamplerPass:
    sampler = _str(one.sampler)
    if sampler is not None and sampler.startswith("sample_"):  # early ComfyUI's k-diffusion names
        sampler = sampler[len("sample_") :]
    return SamplerPass(
        sampler=sampler,
        scheduler=_str(one.scheduler),
        seed=to_int(one.seed),
        steps=to_int(one.steps),
        cfg_scale=_float(one.cfg),
        denoise=_float(one.denoise),
        model=one.model,
        prompt="\n".join(one.positive) or None,
        negative_prompt="\n".join(one.negative) or None,
        node_id=one.node.id,
    )


def _loras(passes: list[Pass]) -> tuple[list[Lora], dict[str, float]]:
    loras: list[Lora] = []
    clip_weights: dict[str, float] = {}
    for one in passes:
        for name, weight, clip in one.loras:
            if any(lora.name == name for lora in loras):
                continue
            loras.append(Lora(name=name, weight=_float(weight)))
            clip_weight = _float(clip)
            if clip_weight is not None and clip_weight != _float(weight):
                clip_weights[name] = clip_weight
    return loras, clip_weights


def _pass_extras(walker: Walker, passes: list[Pass], extra: dict[str, Any]) -> None:
    parts = {p.node.id: p.positive for p in passes if len(p.positive) > 1}
    negative_parts = {p.node.id: p.negative for p in passes if len(p.negative) > 1}
    settings = {}
    for one in passes:
        found = {key: walker.scalar(one.node.inputs[key], key) for key in PASS_EXTRAS
                 if key in one.node.inputs}  # fmt: skip
        if found or one.node.type != "KSampler":
            settings[one.node.id] = {"class_type": one.node.type, **found}
    for key, value in (
        ("prompt_parts", parts),
        ("negative_prompt_parts", negative_parts),
        ("sampler_settings", settings),
    ):
        if value:
            extra[key] = value


def _graph_extras(walker: Walker, graph: Graph) -> dict[str, Any]:
    found: dict[str, list[Any]] = {}
    for node in graph.nodes.values():
        for key, name in GRAPH_EXTRAS.get(node.type, ()):
            if key not in node.inputs:
                continue
            value = walker.scalar(node.inputs[key], key)
            if isinstance(value, dict | list) or value is None or value in NOT_SET:
                continue
            if name == "clip_skip" and isinstance(value, int) and value < 0:
                value = -value  # ComfyUI's stop_at_clip_layer -2 is A1111's "Clip skip: 2"
            if value not in found.setdefault(name, []):
                found[name].append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in found.items()}


def _any_model(walker: Walker, graph: Graph) -> str | None:
    for node in graph.nodes.values():
        for key in MODEL_NAME_KEYS:
            name = walker.text(node.inputs.get(key))
            if name:
                return name
    return None


def _float(value: Any) -> float | None:
    number = to_float(value)
    # Widgets store 0.87 as 0.8700000000000001; six places keep every value a UI can set.
    return None if number is None else round(number, 6)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
