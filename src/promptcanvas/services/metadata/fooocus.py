"""Fooocus: `parameters` JSON (scheme "fooocus") or A1111-style text (scheme "a1111").

The scheme is named by the `fooocus_scheme` PNG chunk (JPEG: the EXIF MakerNote). Without it,
JSON is Fooocus's when it says so (`version`, `metadata_scheme`, `software`) or carries its
keys; this also reads the log-style labels ("Base Model", "Guidance Scale", "LoRA 1") and
forks such as RuinedFooocus (`software`, `Prompt`/`Negative`, `cfg`, `sampler_name`).
SwarmUI's JSON (`sui_image_params`) is never taken.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from promptcanvas.services.metadata import a1111
from promptcanvas.services.metadata._values import (
    add_lora,
    load_json_object,
    parse_size,
    strip_model_ext,
    to_float,
    to_int,
    to_text,
)
from promptcanvas.services.metadata.record import GenerationMetadata, Lora

GENERATOR = "Fooocus"
_LORA_KEY = re.compile(r"^(lora|lora_combined)_\d+$")
_OWN_KEYS = {"guidance_scale", "sharpness", "performance", "adm_guidance", "prompt_expansion"}
_OWN_KEYS |= {"fooocus_v2_expansion", "refiner_switch", "styles"}
_Convert = Callable[[Any], Any]
# Field -> (normalised keys that hold it, how to read the value).
_FIELDS: dict[str, tuple[tuple[str, ...], _Convert]] = {
    "prompt": (("prompt",), to_text),
    "negative_prompt": (("negative_prompt", "negative"), to_text),
    "seed": (("seed",), to_int),
    "steps": (("steps",), to_int),
    "sampler": (("sampler", "sampler_name"), to_text),
    "scheduler": (("scheduler",), to_text),
    "cfg_scale": (("guidance_scale", "cfg", "cfg_scale"), to_float),
    "denoise": (("denoise", "denoising_strength"), to_float),
    "model": (("base_model", "base_model_name"), lambda v: _model_name(to_text(v))),
    "model_hash": (("base_model_hash",), to_text),
    "width": (("width",), to_int),
    "height": (("height",), to_int),
}


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """The settings Fooocus (or a fork) wrote into `parameters`, or None."""
    scheme = str(texts.get("fooocus_scheme", texts.get("exif:MakerNote", ""))).strip().lower()
    scheme = scheme if scheme in ("fooocus", "a1111") else ""
    hinted = bool(scheme) or str(texts.get("exif:Software", "")).startswith("Fooocus")
    for key in ("parameters", "exif:UserComment"):
        text = texts.get(key)
        if not isinstance(text, str) or not text.strip():
            continue
        data = _json_object(text)
        if data is not None:
            if "sui_image_params" not in data and (hinted or _looks_fooocus(data)):
                return _from_json(data)
        elif hinted or "Fooocus" in text:
            record = _from_text(text)
            if hinted or str(record.extra.get("Version", "")).startswith("Fooocus"):
                return record
    return None


def _norm(key: str) -> str:
    return key.strip().lower().replace(" ", "_")


def _json_object(text: str) -> dict[str, Any] | None:
    """A JSON object, also when it was encoded twice (a JSON string holding JSON)."""
    data = load_json_object(text)
    if data is None and text.lstrip().startswith('"'):
        try:
            inner = json.loads(text)
        except ValueError:
            return None
        data = load_json_object(inner) if isinstance(inner, str) else None
    return data


def _looks_fooocus(data: dict[str, Any]) -> bool:
    marks = (data.get(k) for k in ("version", "Version", "metadata_scheme", "software"))
    if any("fooocus" in str(mark).lower() for mark in marks if mark is not None):
        return True
    keys = {_norm(key) for key in data}
    return bool(keys & {"base_model", "base_model_name"}) and bool(keys & _OWN_KEYS)


def _model_name(name: str | None) -> str | None:
    return strip_model_ext(name) if name else name


def _from_json(data: dict[str, Any]) -> GenerationMetadata:
    record = GenerationMetadata(generator=_generator(data))
    keys = {_norm(key): key for key in data}
    used: set[str] = set()
    for field, (names, convert) in _FIELDS.items():
        for name in names:
            if name in keys:
                value = convert(data[keys[name]])
                if value is not None:
                    setattr(record, field, value)
                    used.add(keys[name])
                break
    if "resolution" in keys and record.width is None:
        size = parse_size(data[keys["resolution"]])
        if size is not None:
            record.width, record.height = size
            used.add(keys["resolution"])
    for key, value in data.items():
        if _norm(key) == "loras" and isinstance(value, list):
            found = [lora for lora in map(_lora, value) if lora is not None]
            for lora in found:
                add_lora(record.loras, lora)
            if len(found) == len(value):
                used.add(key)  # else the list stays in `extra` as written
        elif _LORA_KEY.match(_norm(key)) and isinstance(value, str):
            slot = _lora(value)
            if slot is not None:
                add_lora(record.loras, slot)
            if slot is not None or value.strip() in ("", "None"):
                used.add(key)
    record.extra = {key: value for key, value in data.items() if key not in used}
    return record


def _generator(data: dict[str, Any]) -> str:
    software = to_text(data.get("software")) or ""
    if "fooocus" in software.lower() and software.split():
        return software.split()[0]  # "RuinedFooocus", "Fooocus-MRE"
    return GENERATOR


def _lora(item: Any) -> Lora | None:
    """`[name, weight(, hash)]`, `{"name", "weight", "hash"}` or `"(True : )name : weight"`."""
    if isinstance(item, list | tuple) and item and isinstance(item[0], str):
        weight = to_float(item[1]) if len(item) > 1 else None
        lora_hash = to_text(item[2]) if len(item) > 2 else None
        return Lora(name=strip_model_ext(item[0]), weight=weight, hash=lora_hash or None)
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return Lora(
            name=strip_model_ext(item["name"]),
            weight=to_float(item.get("weight")),
            hash=to_text(item.get("hash")),
        )
    if isinstance(item, str) and " : " in item:
        parts = item.split(" : ")
        if len(parts) == 3 and parts[0] in ("True", "False"):
            if parts[0] == "False":
                return None  # a disabled LoRA slot was not used
            parts = parts[1:]
        name, weight = parts[0].strip(), to_float(parts[-1])
        if name and name != "None" and weight is not None:
            return Lora(name=strip_model_ext(name), weight=weight)
    return None


def _from_text(text: str) -> GenerationMetadata:
    """The a1111 scheme: the text lines hold the expanded prompt, `Raw prompt` the typed one."""
    record = a1111.parse_parameters(text)
    record.generator = GENERATOR
    extra = record.extra
    for raw_key, field, full_key in (
        ("Raw prompt", "prompt", "full_prompt"),
        ("Raw negative prompt", "negative_prompt", "full_negative_prompt"),
    ):
        if isinstance(extra.get(raw_key), str):
            if getattr(record, field):
                extra[full_key] = getattr(record, field)
            setattr(record, field, extra.pop(raw_key))
    if record.model:
        record.model = strip_model_ext(record.model)
    weights = extra.get("Lora weights")
    if isinstance(weights, str):
        items = [item.rpartition(":") for item in weights.split(",")]
        read = [(name.strip(), to_float(w)) for name, _, w in items if name.strip()]
        for name, weight in read:
            if weight is not None:
                add_lora(record.loras, Lora(name=name, weight=weight))
        if read and all(weight is not None for _, weight in read):
            del extra["Lora weights"]
    return record
