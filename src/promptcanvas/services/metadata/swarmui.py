"""SwarmUI: a JSON object whose `sui_image_params` holds the generation parameters.

It lives in the PNG `parameters` chunk or the JPEG UserComment (a reader may also hand over a
`sui_image_params` carrier directly). Values may be strings ("7.0"); lists may be JSON lists or
comma-separated strings (`loras`, `loraweights`). `sui_extra_data`, `sui_models` and every
parameter without a field of its own are kept in `extra` as written. Older StableSwarmUI
builds named the sampler `comfyuisampler`/`autowebuisampler`.
"""

from __future__ import annotations

from typing import Any

from promptcanvas.services.metadata._values import (
    add_lora,
    load_json_object,
    strip_model_ext,
    to_float,
    to_int,
    to_text,
)
from promptcanvas.services.metadata.record import GenerationMetadata, Lora

GENERATOR = "SwarmUI"
_FIELDS: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt",),
    "negative_prompt": ("negativeprompt",),
    "sampler": ("sampler", "comfyuisampler", "autowebuisampler"),
    "scheduler": ("scheduler", "comfyuischeduler"),
    "model": ("model",),
}
_NUMBERS: dict[str, tuple[str, Any]] = {
    "seed": ("seed", to_int),
    "steps": ("steps", to_int),
    "cfg_scale": ("cfgscale", to_float),
    "width": ("width", to_int),
    "height": ("height", to_int),
    "denoise": ("initimagecreativity", to_float),
}


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """The settings in a SwarmUI metadata object, or None."""
    direct = load_json_object(texts.get("sui_image_params"))
    if direct is not None:
        return _build(direct if "sui_image_params" in direct else {"sui_image_params": direct})
    for key in ("parameters", "exif:UserComment", "stealth"):
        data = load_json_object(texts.get(key))
        if data is not None and isinstance(data.get("sui_image_params"), dict):
            return _build(data)
    return None


def _build(root: dict[str, Any]) -> GenerationMetadata | None:
    params = root.get("sui_image_params")
    if not isinstance(params, dict):
        return None
    record = GenerationMetadata(generator=GENERATOR)
    used: set[str] = set()
    for field, keys in _FIELDS.items():
        for key in keys:
            value = to_text(params.get(key))
            if value is not None:
                setattr(record, field, value)
                used.add(key)
                break
    for field, (key, convert) in _NUMBERS.items():
        value = convert(params.get(key))
        if value is not None:
            setattr(record, field, value)
            used.add(key)
    if record.model is not None:
        record.model = strip_model_ext(record.model)
    models = root.get("sui_models")
    entries = [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []
    if _loras(record, params, entries):
        used.update(("loras", "loraweights"))
    if record.model is not None:
        record.model_hash = _hash_of(entries, "model", record.model)
    record.extra = {k: v for k, v in params.items() if k not in used}
    record.extra.update({k: v for k, v in root.items() if k != "sui_image_params"})
    return record


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return None


def _loras(
    record: GenerationMetadata, params: dict[str, Any], models: list[dict[str, Any]]
) -> bool:
    """LoRAs from `loras` + `loraweights`; False (kept in `extra`) when they do not read."""
    names = _as_list(params.get("loras"))
    if names is None or not all(isinstance(name, str) for name in names):
        return False
    weights = _as_list(params.get("loraweights")) or []
    for index, name in enumerate(names):
        weight = to_float(weights[index]) if index < len(weights) else None
        name = strip_model_ext(name)
        lora = Lora(name=name, weight=weight, hash=_hash_of(models, "loras", name))
        add_lora(record.loras, lora)
    return True


def _hash_of(models: list[dict[str, Any]], param: str, name: str) -> str | None:
    """The hash `sui_models` lists for a model or LoRA (matched on its name without folder)."""
    wanted = name.replace("\\", "/").rsplit("/", 1)[-1].casefold()
    for entry in models:
        if not str(entry.get("param", "")).startswith(param.rstrip("s")):
            continue
        file = strip_model_ext(str(entry.get("name", ""))).replace("\\", "/")
        if file.rsplit("/", 1)[-1].casefold() == wanted:
            return to_text(entry.get("hash"))
    return None
