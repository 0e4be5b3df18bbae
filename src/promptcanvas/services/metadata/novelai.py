"""NovelAI: `Software` "NovelAI", `Description` = prompt, `Comment` = JSON settings.

The same keys also come as one JSON object: NovelAI's alpha-channel ("stealth") payload, or
an EXIF UserComment. V4 models keep the base prompt in `v4_prompt.caption.base_caption` and
one caption per character in `char_captions`; `v4_prompt` and `v4_negative_prompt` are kept
verbatim in `extra`, and `extra["character_prompts"]` lists each character's prompt and
negative prompt (`{"prompt", "negative_prompt", "centers"}`) for display and search.
"""

from __future__ import annotations

import re
from typing import Any

from promptcanvas.services.metadata._values import (
    load_json_object,
    parse_size,
    to_float,
    to_int,
    to_text,
)
from promptcanvas.services.metadata.record import GenerationMetadata

# "Stable Diffusion XL C1E1DE52", "NovelAI Diffusion V4.5 4BDE2A90": model name, then its hash.
_SOURCE = re.compile(r"^(.*?)\s+([0-9A-F]{8})$")
_CONSUMED = {"prompt", "uc", "steps", "scale", "seed", "sampler", "noise_schedule"}
_CARRIER_KEYS = ("Description", "Software", "Source", "Comment")
# PNG chunks NovelAI writes besides the ones read into fields (other chunks are other tools').
_PNG_EXTRAS = ("Title", "Generation time", "Warning")


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """The settings in NovelAI's PNG text chunks or stealth/EXIF JSON payload, or None."""
    if _is_novelai(texts):
        return _build(texts, [key for key in _PNG_EXTRAS if key in texts])
    for key in ("stealth", "parameters", "exif:UserComment"):
        payload = load_json_object(texts.get(key))
        if payload is not None and _is_novelai(payload):
            return _build(payload, [k for k in payload if k not in _CARRIER_KEYS])
    return None


def _is_novelai(carrier: dict[str, Any]) -> bool:
    software = carrier.get("Software")
    source = carrier.get("Source")
    return (isinstance(software, str) and software.strip() == "NovelAI") or (
        isinstance(source, str) and "NovelAI" in source
    )


def _build(carrier: dict[str, Any], kept: list[str]) -> GenerationMetadata:
    comment = carrier.get("Comment")
    settings = comment if isinstance(comment, dict) else load_json_object(comment) or {}
    record = GenerationMetadata(generator="NovelAI")
    extra: dict[str, Any] = {k: v for k, v in settings.items() if k not in _CONSUMED}
    if comment is not None and not settings:
        extra["Comment"] = comment  # not JSON: keep it rather than lose it
    extra.update({key: carrier[key] for key in kept})

    v4_prompt = _caption(settings.get("v4_prompt"))
    v4_negative = _caption(settings.get("v4_negative_prompt"))
    description = carrier.get("Description")
    record.prompt = _first_text(description, settings.get("prompt"), v4_prompt[0])
    if isinstance(description, str) and "prompt" in settings and settings["prompt"] != description:
        extra["prompt"] = settings["prompt"]
    record.negative_prompt = _first_text(settings.get("uc"), v4_negative[0])
    record.steps = to_int(settings.get("steps"))
    record.seed = to_int(settings.get("seed"))
    record.cfg_scale = to_float(settings.get("scale"))
    record.sampler = to_text(settings.get("sampler"))
    record.scheduler = to_text(settings.get("noise_schedule"))
    size = parse_size([settings.get("width"), settings.get("height")])
    if size is not None:
        record.width, record.height = size
        extra.pop("width", None)
        extra.pop("height", None)
    # `strength` is always written, but it only took effect when an image was the input.
    if "img2img" in str(settings.get("request_type", "")).lower():
        record.denoise = to_float(settings.get("strength"))
        if record.denoise is not None:
            extra.pop("strength", None)
    _source(record, carrier.get("Source"))
    characters = _characters(v4_prompt[1], v4_negative[1])
    if characters:
        extra["character_prompts"] = characters
    record.extra = extra
    return record


def _first_text(*values: Any) -> str | None:
    return next((value for value in values if isinstance(value, str)), None)


def _caption(block: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """The base caption and character captions of a v4 prompt block."""
    caption = block.get("caption") if isinstance(block, dict) else None
    if not isinstance(caption, dict):
        return None, []
    base = caption.get("base_caption")
    chars = caption.get("char_captions")
    items = [item for item in chars if isinstance(item, dict)] if isinstance(chars, list) else []
    return (base if isinstance(base, str) else None), items


def _characters(
    prompts: list[dict[str, Any]], negatives: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, item in enumerate(prompts):
        negative = negatives[index].get("char_caption") if index < len(negatives) else None
        out.append(
            {
                "prompt": to_text(item.get("char_caption")),
                "negative_prompt": to_text(negative),
                "centers": item.get("centers"),
            }
        )
    return out


def _source(record: GenerationMetadata, source: Any) -> None:
    if not isinstance(source, str) or not source.strip():
        return
    match = _SOURCE.match(source.strip())
    if match:
        record.model, record.model_hash = match.group(1), match.group(2)
    else:
        record.model = source.strip()
