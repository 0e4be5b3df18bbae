"""AUTOMATIC1111-family `parameters` text: A1111, Forge, reForge, SD.Next, Civitai.

Layout: prompt lines, an optional `Negative prompt:` line (it may continue over more lines),
then one settings line of `Key: value` pairs joined by ", ". A value is plain text, a JSON
string in double quotes (when it holds commas, colons or quotes), or unquoted JSON (`Hashes`,
`Civitai resources`, `Civitai metadata`). SD Dynamic Prompts appends `Template:` and
`Negative Template:` lines after the settings line.

Settings with a field of their own are not repeated in `extra`; every other key is kept there
verbatim: quoted values unquoted, unquoted JSON as the JSON value it holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from promptcanvas.services.metadata._values import (
    add_lora,
    load_json,
    parse_size,
    to_float,
    to_int,
)
from promptcanvas.services.metadata.record import GenerationMetadata, Lora

NEGATIVE = "Negative prompt:"
# A key starts with a letter or digit and holds no quote, comma, colon, brace or bracket.
_KEY = re.compile(r"\s*(\w[^:,\"\n{}\[\]]*?)\s*:(?:\s+|$|(?=[\"{\[]))")
_KNOWN = ("Steps", "Sampler", "CFG scale", "Seed", "Size", "Model hash", "Model", "Schedule type")
_TAG = re.compile(r"<(lora|lyco|hypernet):([^<>]+)>", re.I)
_TAG_KIND = {"lora": "lora", "lyco": "lycoris", "hypernet": "hypernetwork"}
_RESOURCE_KIND = {"lora": "lora", "locon": "lora", "dora": "lora", "lycoris": "lycoris"}
_EMBED_TYPES = {"embed", "embedding", "textualinversion"}
_REFORGE = re.compile(r"^f\d[\w.]*-v\d")
_FORGE = re.compile(r"^f\d")
_CONSUMED = {
    "Steps",
    "Sampler",
    "Schedule type",
    "Scheduler",
    "CFG scale",
    "Seed",
    "Size",
    "Model",
    "Model hash",
    "Denoising strength",
    "Lora hashes",
    "TI hashes",
}


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """The settings in an A1111-style `parameters` text (or UserComment), or None."""
    scheme = str(texts.get("fooocus_scheme", "")).strip().lower()
    if scheme in ("a1111", "fooocus") or str(texts.get("exif:Software", "")).startswith("Fooocus"):
        return None  # Fooocus writes this layout too; fooocus.py reads it with its own keys.
    for key in ("parameters", "exif:UserComment", "stealth"):
        text = texts.get(key)
        if not isinstance(text, str) or not text.strip() or load_json(text) is not None:
            continue
        record = _parse(text, strict=True)
        if record is not None:
            version = str(record.extra.get("Version", ""))
            return None if version.startswith("Fooocus") else record
    return None


def parse_parameters(text: str) -> GenerationMetadata:
    """Read any `parameters` text; without a settings line the whole text is the prompt."""
    return _parse(text, strict=False) or GenerationMetadata(generator="AUTOMATIC1111")


def split_settings(line: str) -> list[tuple[str, Any]] | None:
    """The `Key: value` pairs of a settings line, or None when the line is not one."""
    pairs: list[tuple[str, Any]] = []
    pos, end = 0, len(line)
    while True:
        while pos < end and line[pos] in " \t,":
            pos += 1
        if pos >= end:
            return pairs or None
        match = _KEY.match(line, pos)
        if match is None:
            return None
        value, pos = _value(line, match.end())
        pairs.append((match.group(1), value))


def _value(line: str, pos: int) -> tuple[Any, int]:
    """One value starting at `pos` and where the next pair starts."""
    if pos < len(line) and line[pos] in '"{[':
        try:
            value, after = json.JSONDecoder().raw_decode(line, pos)
        except (ValueError, RecursionError):
            pass
        else:
            rest = line[after:].lstrip(" \t")
            if not rest or rest[0] == ",":
                return value, after
    # A plain value runs to the next comma that is followed by another `Key:`.
    cut = line.find(",", pos)
    while cut != -1 and not _KEY.match(line, cut + 1):
        cut = line.find(",", cut + 1)
    stop = len(line) if cut == -1 else cut
    value = line[pos:stop].strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]  # a quoted value with a broken escape: keep its text
    return value, stop


def _is_settings(pairs: list[tuple[str, Any]] | None) -> bool:
    if not pairs:
        return False
    keys = {key for key, _ in pairs}
    return "Steps" in keys or len(keys.intersection(_KNOWN)) >= 2


def _parse(text: str, *, strict: bool) -> GenerationMetadata | None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    settings_at, pairs = -1, None
    for index in range(len(lines) - 1, -1, -1):
        candidate = split_settings(lines[index])
        if _is_settings(candidate):
            settings_at, pairs = index, candidate
            break
    body = lines if settings_at < 0 else lines[:settings_at]
    tail = [] if settings_at < 0 else lines[settings_at + 1 :]
    negative_at = next((i for i, ln in enumerate(body) if ln.lstrip().startswith(NEGATIVE)), -1)
    if strict and pairs is None and negative_at < 0:
        return None

    record = GenerationMetadata(generator="AUTOMATIC1111")
    if negative_at < 0:
        record.prompt = "\n".join(body).strip()
    else:
        record.prompt = "\n".join(body[:negative_at]).strip()
        first = body[negative_at].lstrip()[len(NEGATIVE) :]
        record.negative_prompt = "\n".join([first, *body[negative_at + 1 :]]).strip()
    _apply_settings(record, pairs or [])
    _read_tail(record, tail)
    _collect_loras(record)
    record.generator = _generator(record.extra)
    return record


def _apply_settings(record: GenerationMetadata, pairs: list[tuple[str, Any]]) -> None:
    values = dict(pairs)
    extra = {key: value for key, value in pairs if key not in _CONSUMED}
    record.steps = to_int(values.get("Steps"))
    record.seed = to_int(values.get("Seed"))
    record.cfg_scale = to_float(values.get("CFG scale"))
    record.denoise = to_float(values.get("Denoising strength"))
    record.sampler = _text(values.get("Sampler"))
    record.scheduler = _text(values.get("Schedule type", values.get("Scheduler")))
    record.model = _text(values.get("Model"))
    record.model_hash = _text(values.get("Model hash"))
    size = parse_size(values.get("Size"))
    if size is not None:
        record.width, record.height = size
    # A value that did not read as its field's type is kept as written rather than lost.
    for key, field in (("Steps", "steps"), ("Seed", "seed"), ("CFG scale", "cfg_scale")):
        if key in values and getattr(record, field) is None:
            extra[key] = values[key]
    if "Denoising strength" in values and record.denoise is None:
        extra["Denoising strength"] = values["Denoising strength"]
    if "Schedule type" in values and "Scheduler" in values:
        extra["Scheduler"] = values["Scheduler"]
    if "Size" in values and size is None:
        extra["Size"] = values["Size"]
    for key, kind in (("Lora hashes", "lora"), ("TI hashes", "embedding")):
        if key in values and not _add_hashes(record, values[key], kind):
            extra[key] = values[key]
    record.extra.update(extra)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _add_hashes(record: GenerationMetadata, value: Any, kind: str) -> bool:
    """Read `"name: hash, name2: hash"`; Fooocus once wrote `name: hash: weight`."""
    if not isinstance(value, str):
        return False
    for item in value.split(","):
        parts = [part.strip() for part in item.split(":")]
        if len(parts) < 2 or not parts[0]:
            continue
        weight = to_float(parts[2]) if len(parts) > 2 else None
        add_lora(record.loras, Lora(name=parts[0], hash=parts[1] or None, weight=weight, kind=kind))
    return True


def _read_tail(record: GenerationMetadata, tail: list[str]) -> None:
    """SD Dynamic Prompts' `Template:`/`Negative Template:` lines (each may span lines)."""
    key: str | None = None
    blocks: dict[str, list[str]] = {}
    for line in tail:
        for label in ("Template:", "Negative Template:"):
            if line.startswith(label):
                key = label[:-1]
                blocks[key] = [line[len(label) :].lstrip()]
                break
        else:
            blocks.setdefault(key or "Trailing text", []).append(line)
    for name, block in blocks.items():
        record.extra[name] = "\n".join(block).strip()


def _collect_loras(record: GenerationMetadata) -> None:
    """LoRAs from prompt tags, then hashes and Civitai's resource list filled in."""
    tagged: list[Lora] = []
    for match in _TAG.finditer(record.prompt or ""):
        kind = _TAG_KIND[match.group(1).lower()]
        name, *args = match.group(2).split(":")
        weight = 1.0  # A1111's multiplier when the tag gives none
        for arg in args:
            number = to_float(arg.split("=", 1)[-1])
            if number is not None:
                weight = number
                break
        add_lora(tagged, Lora(name=name.strip(), weight=weight, kind=kind))
    hashed, record.loras = record.loras, tagged
    for lora in hashed:
        _merge_hash(record.loras, lora)
    hashes = record.extra.get("Hashes")
    if isinstance(hashes, dict):
        for key, value in hashes.items():
            prefix, _, name = str(key).partition(":")
            if key == "model" and record.model_hash is None:
                record.model_hash = str(value)
            elif name and prefix.lower() in ("lora", "lyco"):
                _merge_hash(record.loras, Lora(name=name, hash=str(value)))
            elif name and prefix.lower() in ("embed", "ti"):
                _merge_hash(record.loras, Lora(name=name, hash=str(value), kind="embedding"))
    resources = record.extra.get("Civitai resources")
    if isinstance(resources, list):
        _civitai_resources(record, [item for item in resources if isinstance(item, dict)])


def _merge_hash(loras: list[Lora], lora: Lora) -> None:
    """Give a hash to the tag it names (a `lyco` tag's hash is listed with the LoRAs)."""
    embedding = lora.kind == "embedding"
    wanted = lora.name.casefold()
    for existing in loras:
        if (existing.kind == "embedding") == embedding and existing.name.casefold() == wanted:
            existing.hash = existing.hash or lora.hash
            if existing.weight is None:
                existing.weight = lora.weight
            return
    loras.append(lora)


def _civitai_resources(record: GenerationMetadata, resources: list[dict[str, Any]]) -> None:
    """Civitai's generator names its checkpoint and LoRAs only in this list."""
    had = {lora.kind for lora in record.loras}
    for item in resources:
        kind = str(item.get("type", "")).lower()
        name = item.get("modelName")
        if not isinstance(name, str) or not name:
            continue
        if kind == "checkpoint" and record.model is None:
            record.model = name
        elif kind in _RESOURCE_KIND and "lora" not in had and "lycoris" not in had:
            weight = to_float(item.get("weight"))
            weight = 1.0 if weight is None else weight
            add_lora(record.loras, Lora(name=name, weight=weight, kind=_RESOURCE_KIND[kind]))
        elif kind in _EMBED_TYPES and "embedding" not in had:
            add_lora(
                record.loras, Lora(name=name, weight=to_float(item.get("weight")), kind="embedding")
            )


def _generator(extra: dict[str, Any]) -> str:
    """Which member of the family wrote the text, from what it says about itself."""
    app = str(extra.get("App", ""))
    version = str(extra.get("Version", "")).strip()
    if app.startswith("SD.Next"):
        return "SD.Next"
    if "Civitai resources" in extra or "Civitai metadata" in extra:
        return "Civitai"
    if version.startswith("ComfyUI"):
        return "ComfyUI"
    if version == "PromptCanvas":  # our own outputs, read from their A1111 text alone
        return "PromptCanvas"
    if _REFORGE.match(version):
        return "reForge"
    if _FORGE.match(version):
        return "Forge"
    return "AUTOMATIC1111"
