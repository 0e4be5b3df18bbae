"""From a file's generation metadata to what the library stores: prompt wording, parameters.

Every imported image shows up in the library. A file whose metadata names no prompt (no
metadata at all, or a graph whose text could not be traced) becomes an output of one prompt
per owner, `NO_PROMPT_TEXT`, tagged `no-prompt`; its generation keeps whatever settings the
file had, and its provider is the tool that wrote it ("import" when unknown).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from promptcanvas.domain.prompts import MAX_TEXT
from promptcanvas.domain.text import normalize
from promptcanvas.services.metadata.record import GenerationMetadata

NO_PROMPT_TEXT = "(imported images without a prompt)"
IMPORT_TAG = "imported"
NO_PROMPT_TAG = "no-prompt"
UNKNOWN_PROVIDER = "import"
MAX_PARAMETERS_CHARS = 256 * 1024
_MAX_DEPTH = 24
_SETTINGS = ("steps", "sampler", "scheduler", "cfg_scale", "denoise", "width", "height")


def _clean(text: str | None) -> str:
    if not text:
        return ""
    cleaned = normalize(text.replace("\x00", ""))
    return cleaned[:MAX_TEXT]


def wording(meta: GenerationMetadata) -> tuple[str, str]:
    """(prompt text, negative text) as stored; the placeholder when the file names no prompt."""
    text = _clean(meta.prompt)
    if not text.strip():
        return NO_PROMPT_TEXT, ""
    return text, _clean(meta.negative_prompt)


def wording_key(text: str, negative: str) -> bytes:
    """A compact key of a prompt's wording (one prompt per distinct wording and owner)."""
    return hashlib.sha256(f"{text}\x00{negative}".encode()).digest()[:16]


def tags_for(text: str) -> list[str]:
    """Tags a prompt created by an import starts with."""
    return [IMPORT_TAG, NO_PROMPT_TAG] if text == NO_PROMPT_TEXT else [IMPORT_TAG]


def provider_of(meta: GenerationMetadata) -> str:
    """The tool that wrote the file, or "import" when the file does not say."""
    return _short(meta.generator, 100) or UNKNOWN_PROVIDER


def _short(value: str | None, limit: int) -> str | None:
    if not value:
        return None
    value = "".join(ch for ch in value if ord(ch) >= 32).strip()
    return value[:limit] or None


def model_of(meta: GenerationMetadata) -> tuple[str | None, str | None]:
    """(model, model version) columns: the checkpoint name and its hash."""
    return _short(meta.model, 200), _short(meta.model_hash, 100)


def seed_of(meta: GenerationMetadata) -> int | None:
    """The seed if a database integer can hold it (the parameters keep it either way)."""
    seed = meta.seed
    if isinstance(seed, int) and not isinstance(seed, bool) and -(2**63) <= seed < 2**63:
        return seed
    return None


def parameters(meta: GenerationMetadata, *, source_name: str, error: str | None) -> dict[str, Any]:
    """The generation's parameters: the record's settings, samplers, LoRAs and extras."""
    params: dict[str, Any] = {}
    for name in _SETTINGS:
        value = getattr(meta, name)
        if value is not None:
            params[name] = value
    if meta.seed is not None and seed_of(meta) is None:
        params["seed"] = str(meta.seed)
    if meta.samplers:
        params["samplers"] = [_no_nones(asdict(s)) for s in meta.samplers]
    if meta.loras:
        params["loras"] = [_no_nones(asdict(lora)) for lora in meta.loras]
    if meta.extra:
        params["extra"] = dict(meta.extra)
    if meta.provenance:
        params["provenance"] = dict(meta.provenance)
    params["imported_from"] = source_name
    if error:
        params["metadata_error"] = error
    safe: dict[str, Any] = _json_safe(params, _MAX_DEPTH)
    return _fit(safe)


def _no_nones(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _json_safe(value: Any, depth: int) -> Any:
    """What both databases store as JSON: no NaN, no NUL, no lone surrogates, bounded depth."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if depth <= 0:
        return _json_safe(str(value)[:1000], 1)
    if isinstance(value, dict):
        return {str(_json_safe(str(k), 1)): _json_safe(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v, depth - 1) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return _json_safe(str(value), 1)


def _fit(params: dict[str, Any]) -> dict[str, Any]:
    """Drop the largest extras until the parameters fit (the stored file keeps everything)."""
    extra = params.get("extra")
    if not isinstance(extra, dict) or _size(params) <= MAX_PARAMETERS_CHARS:
        return params
    dropped: list[str] = []
    for key in sorted(extra, key=lambda k: _size(extra[k]), reverse=True):
        if _size(params) <= MAX_PARAMETERS_CHARS:
            break
        del extra[key]
        dropped.append(key)
    params["extra_dropped"] = dropped
    return params


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


def file_time(mtime_ns: int, now: datetime) -> datetime:
    """When the file was made, as far as its modification time tells (never in the future)."""
    try:
        when = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    except (OverflowError, OSError, ValueError):
        return now
    return min(max(when, datetime(1970, 1, 2, tzinfo=UTC)), now)
