"""Coercing the loosely typed values other tools write: numbers as strings, sizes, sloppy JSON.

Every helper returns None for what it cannot read instead of raising, so a parser fed garbage
keeps whatever else it could read.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from promptcanvas.services.metadata.record import Lora

_SIZE = re.compile(r"^\s*[(\[]?\s*(\d+)\s*(?:[x×*,]|\s)\s*(\d+)\s*[)\]]?\s*$", re.I)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_MODEL_EXT = re.compile(r"\.(safetensors|ckpt|pt|pth|bin|gguf|sft|onnx)$", re.I)
_INT = re.compile(r"^[+-]?\d+$")
_INTEGRAL_FLOAT = re.compile(r"^([+-]?\d+)\.0*$")


def to_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a numeric string (seeds can exceed 2**63)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        integral = _INTEGRAL_FLOAT.match(text)
        digits = text if _INT.match(text) else integral.group(1) if integral else None
        # Python refuses to convert more than 4300 digits; no real setting has that many.
        if digits is None or len(digits) > 400:
            return None
        return int(digits)
    return None


def to_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def to_text(value: Any) -> str | None:
    """A string value as written; numbers become their text, containers and None give None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    try:
        return str(value)
    except ValueError:  # an int too long to print
        return None


def parse_size(value: Any) -> tuple[int, int] | None:
    """Width and height from "512x768", "(768, 1280)", "768*1280" or a two-item list."""
    if isinstance(value, list | tuple) and len(value) == 2:
        width, height = to_int(value[0]), to_int(value[1])
        return (width, height) if width is not None and height is not None else None
    if not isinstance(value, str):
        return None
    match = _SIZE.match(value)
    if match is None:
        return None
    width, height = to_int(match.group(1)), to_int(match.group(2))
    return (width, height) if width is not None and height is not None else None


def load_json(text: str | None) -> Any:
    """The JSON value in a text, tolerating trailing commas (SwarmUI's own example has one)."""
    if not text or not isinstance(text, str):
        return None
    stripped = text.strip().lstrip("\ufeff")
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", stripped))
    except (ValueError, RecursionError):
        return None


def load_json_object(text: str | None) -> dict[str, Any] | None:
    """The JSON object in a text, or None when it is not one."""
    value = load_json(text)
    return value if isinstance(value, dict) else None


def strip_model_ext(name: str) -> str:
    """A model or LoRA file name without its weights extension (".safetensors", ".ckpt", ...)."""
    return _MODEL_EXT.sub("", name.strip())


def add_lora(loras: list[Lora], lora: Lora) -> Lora:
    """Add a LoRA, or fill the gaps of the entry already there with the same kind and name."""
    wanted = lora.name.casefold()
    for existing in loras:
        if existing.kind == lora.kind and existing.name.casefold() == wanted:
            if existing.weight is None:
                existing.weight = lora.weight
            if existing.hash is None:
                existing.hash = lora.hash
            return existing
    loras.append(lora)
    return lora
