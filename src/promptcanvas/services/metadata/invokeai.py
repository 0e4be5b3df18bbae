"""InvokeAI: `invokeai_metadata` (v3+ JSON), `sd-metadata` (v2 JSON) and the legacy `Dream` line.

The newest carrier present wins (2.x files carry both `sd-metadata` and `Dream`). InvokeAI's
`scheduler` names the sampling algorithm ("euler", "dpmpp_2m_k"), so it is read as `sampler`.
Legacy prompts hold their negative part in square brackets: `a cat [blurry, dog]`.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from promptcanvas.services.metadata._values import (
    add_lora,
    load_json_object,
    to_float,
    to_int,
    to_text,
)
from promptcanvas.services.metadata.record import GenerationMetadata, Lora

GENERATOR = "InvokeAI"
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_OPTION = re.compile(r"^--?[A-Za-z][\w-]*$")
# Dream options (short and long) with a field of their own.
_DREAM = {
    "-s": "steps", "--steps": "steps",
    "-S": "seed", "--seed": "seed",
    "-W": "width", "--width": "width",
    "-H": "height", "--height": "height",
    "-C": "cfg_scale", "--cfg_scale": "cfg_scale",
    "-A": "sampler", "--sampler": "sampler",
    "-f": "denoise", "--strength": "denoise",
}  # fmt: skip
# Field -> keys of the v3+ and v2 JSON that hold it.
_COMMON = {
    "seed": ("seed",),
    "steps": ("steps",),
    "cfg_scale": ("cfg_scale",),
    "denoise": ("strength",),
    "width": ("width",),
    "height": ("height",),
}


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """The settings in an InvokeAI image's chunks, or None."""
    metadata = load_json_object(texts.get("invokeai_metadata"))
    if metadata is not None:
        return _from_metadata(metadata)
    legacy = load_json_object(texts.get("sd-metadata"))
    if legacy is not None and isinstance(legacy.get("image"), dict):
        return _from_sd_metadata(legacy)
    dream = texts.get("Dream")
    if isinstance(dream, str) and dream.lstrip().startswith('"'):
        return _from_dream(dream)
    return None


def _fill(record: GenerationMetadata, data: dict[str, Any], used: set[str]) -> None:
    """Numbers shared by both JSON layouts; a value of the wrong type stays in `extra`."""
    for field, keys in _COMMON.items():
        for key in keys:
            if key not in data:
                continue
            convert = to_int if field in ("seed", "steps", "width", "height") else to_float
            value = convert(data[key])
            if value is not None:
                setattr(record, field, value)
                used.add(key)
            break


def _from_metadata(data: dict[str, Any]) -> GenerationMetadata:
    record = GenerationMetadata(generator=GENERATOR)
    used = {"positive_prompt", "negative_prompt", "scheduler", "model", "loras"}
    record.prompt = to_text(data.get("positive_prompt"))
    record.negative_prompt = to_text(data.get("negative_prompt"))
    record.sampler = to_text(data.get("scheduler"))
    _fill(record, data, used)
    model = data.get("model")
    if isinstance(model, dict):
        record.model = to_text(model.get("model_name", model.get("name")))
        record.model_hash = to_text(model.get("hash"))
        rest = {k: v for k, v in model.items() if k not in ("model_name", "name", "hash")}
        if rest:
            record.extra["model"] = rest
    elif model is not None:
        record.model = to_text(model)
    loras = data.get("loras")
    for entry in loras if isinstance(loras, list) else []:
        lora = _invoke_lora(entry)
        if lora is not None:
            add_lora(record.loras, lora)
    if loras is not None and not isinstance(loras, list):
        record.extra["loras"] = loras
    record.extra.update({k: v for k, v in data.items() if k not in used})
    return record


def _invoke_lora(entry: Any) -> Lora | None:
    """v3: {"lora": {"model_name"}, "weight"}; v4: {"lora": {"name", "hash"}}; v5: {"model"}."""
    if not isinstance(entry, dict):
        return None
    inner = entry.get("lora", entry.get("model", entry))
    if not isinstance(inner, dict):
        inner = {"name": inner}
    name = to_text(inner.get("model_name", inner.get("name", inner.get("key"))))
    if not name:
        return None
    return Lora(name=name, weight=to_float(entry.get("weight")), hash=to_text(inner.get("hash")))


def _from_sd_metadata(data: dict[str, Any]) -> GenerationMetadata:
    image: dict[str, Any] = data["image"]
    record = GenerationMetadata(generator=GENERATOR)
    used = {"prompt", "sampler"}
    _fill(record, image, used)
    record.sampler = to_text(image.get("sampler"))
    prompt = image.get("prompt")
    if isinstance(prompt, list):
        parts = [p for p in prompt if isinstance(p, dict) and isinstance(p.get("prompt"), str)]
        if len(parts) == 1:
            prompt = parts[0]["prompt"]
        else:  # a weighted blend, written the way InvokeAI 2's command line takes it
            prompt = " ".join(f"{p['prompt']}:{p.get('weight', 1)}" for p in parts)
    if isinstance(prompt, str):
        record.prompt, record.negative_prompt = split_negative(prompt)
    elif prompt is not None:
        used.discard("prompt")
    record.extra.update({k: v for k, v in image.items() if k not in used})
    record.model = to_text(data.get("model_weights"))
    record.model_hash = to_text(data.get("model_hash"))
    skip = {"image", "model_weights", "model_hash"}
    record.extra.update({k: v for k, v in data.items() if k not in skip})
    return record


def split_negative(prompt: str) -> tuple[str, str | None]:
    """Split a legacy InvokeAI prompt into its text and its `[negative]` parts."""
    negatives = [part.strip() for part in _BRACKETS.findall(prompt) if part.strip()]
    positive = re.sub(r"\s{2,}", " ", _BRACKETS.sub(" ", prompt)).strip()
    return positive, (", ".join(negatives) if negatives else None)


def _from_dream(line: str) -> GenerationMetadata:
    """`"prompt [neg]" -s 50 -S 42 -W 512 -H 768 -C 7.5 -A k_lms -U 4 0.95`."""
    record = GenerationMetadata(generator=GENERATOR)
    try:
        tokens = shlex.split(line)
    except ValueError:  # an unbalanced quote: fall back to splitting on spaces
        tokens = line.replace('"', " ").split()
    if not tokens:
        return record
    words: list[str] = []
    while tokens and not _OPTION.match(tokens[0]):
        words.append(tokens.pop(0))
    record.prompt, record.negative_prompt = split_negative(" ".join(words))
    options: list[tuple[str, list[str]]] = []
    for token in tokens:
        if _OPTION.match(token):
            options.append((token, []))
        else:
            options[-1][1].append(token)
    for option, values in options:
        field = _DREAM.get(option)
        value = " ".join(values)
        parsed: Any = None
        if field in ("steps", "seed", "width", "height"):
            parsed = to_int(value)
        elif field in ("cfg_scale", "denoise"):
            parsed = to_float(value)
        elif field == "sampler" and value:
            parsed = value
        if parsed is not None and field is not None:
            setattr(record, field, parsed)
        else:
            record.extra[option.lstrip("-")] = value or True
    return record
