"""Read the generation metadata of an image file, whichever tool wrote it.

Carriers (text chunks, EXIF, XMP, C2PA) are read from the headers; each format parser is then
offered the texts, ours first and AUTOMATIC1111 (the most permissive layout) last. Only when no
parser recognises anything does a PNG or WebP get its pixels decoded, for stealth metadata.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptcanvas.services.metadata import (
    a1111,
    c2pa,
    comfyui,
    fooocus,
    invokeai,
    novelai,
    ours,
    swarmui,
)
from promptcanvas.services.metadata.carriers import Carriers, extract
from promptcanvas.services.metadata.record import GenerationMetadata
from promptcanvas.services.metadata.stealth import MIN_PIXELS, read_stealth

Parse = Callable[[dict[str, str]], GenerationMetadata | None]
# The order parsers are tried in: formats with a distinctive key first, then the ones that read
# a generic `parameters` text (SwarmUI and Fooocus JSON before AUTOMATIC1111's plain text).
PARSERS: tuple[tuple[str, Parse], ...] = (
    ("ours", ours.parse),
    ("novelai", novelai.parse),
    ("invokeai", invokeai.parse),
    ("swarmui", swarmui.parse),
    ("fooocus", fooocus.parse),
    ("comfyui", comfyui.parse),
    ("a1111", a1111.parse),
)
# Settings' default `max_image_pixels`: the most pixels decoded to look for stealth metadata.
DEFAULT_MAX_PIXELS = 64_000_000
_XMP_FIELDS = re.compile(
    r"<(exif:UserComment|dc:description|tiff:ImageDescription)\b[^>]*>(.*?)</\1>"
    r'|\b(exif:UserComment|dc:description|tiff:ImageDescription)="([^"]*)"',
    re.S,
)
_XMP_ITEM = re.compile(r"<rdf:li\b[^>]*>(.*?)</rdf:li>", re.S)
_EXIF_GRAPH = re.compile(r"^(prompt|workflow):\s*\{")


@dataclass(frozen=True, slots=True)
class Reading:
    """One file read: its carriers (format, pixel size, texts) and the generation record."""

    carriers: Carriers
    metadata: GenerationMetadata


def read(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, carriers: Carriers | None = None
) -> Reading:
    """Carriers and generation metadata of image bytes; UnsupportedMedia if not an image.

    `carriers`: what `extract(data)` gave already (an import's structure check finds them).
    """
    carriers = extract(data) if carriers is None else carriers
    raw = dict(carriers.texts)
    errors: list[str] = []
    record = _parse(parser_input(carriers.texts), errors)
    pixels = carriers.width * carriers.height
    if record is None and carriers.format in ("PNG", "WEBP") and pixels >= MIN_PIXELS:
        hidden = read_stealth(data, max_pixels=max_pixels)
        if hidden is not None:
            signature, text = hidden
            raw[signature] = text
            record = _parse(_stealth_input(text), errors)
    record = record or GenerationMetadata()
    record.raw = {**record.raw, **raw}
    if errors:
        record.extra["parse_error"] = "; ".join(errors)
    record.provenance = record.provenance or _provenance(carriers)
    return Reading(carriers, record)


def read_metadata(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> GenerationMetadata:
    """The generation metadata in image bytes; generator None when there is none."""
    return read(data, max_pixels=max_pixels).metadata


def read_path(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> GenerationMetadata:
    """The generation metadata in an image file."""
    return read_metadata(Path(path).read_bytes(), max_pixels=max_pixels)


def parser_input(texts: dict[str, str]) -> dict[str, str]:
    """The texts offered to parsers: carriers verbatim, plus what other carriers imply.

    An EXIF UserComment or XMP description that reads like a `parameters` text (A1111, Fooocus,
    SwarmUI JPEG and WebP files) is also offered as "parameters"; ComfyUI's WebP writer puts
    "prompt:{...}" / "workflow:{...}" in EXIF text tags, offered as "prompt" and "workflow".
    """
    out = dict(texts)
    for key, value in texts.items():
        if key.startswith("exif:") and (found := _EXIF_GRAPH.match(value)):
            out.setdefault(found[1], value[found.end() - 1 :])
    if "parameters" not in out:
        for candidate in _parameter_candidates(texts):
            if _looks_like_parameters(candidate):
                out["parameters"] = candidate
                break
    return out


def _parameter_candidates(texts: dict[str, str]) -> list[str]:
    found = [texts.get("exif:UserComment", ""), texts.get("exif:ImageDescription", "")]
    for key, value in texts.items():
        if key == "xmp" or key == "XML:com.adobe.xmp":
            found.extend(_xmp_texts(value))
    found.append(texts.get("jpeg:COM", ""))
    return [text for text in found if text.strip()]


def _xmp_texts(xmp: str) -> list[str]:
    texts = []
    for match in _XMP_FIELDS.finditer(xmp):
        if match[2] is not None:
            items = _XMP_ITEM.findall(match[2])
            texts.extend(items or [match[2]])
        else:
            texts.append(match[4])
    return [html.unescape(text).strip() for text in texts]


def _looks_like_parameters(text: str) -> bool:
    if "Steps: " in text:
        return True
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return False
    try:
        return isinstance(json.loads(stripped), dict)
    except (ValueError, RecursionError):
        return False


def _stealth_input(text: str) -> dict[str, str]:
    """NovelAI hides its whole PNG info as JSON; A1111 hides its `parameters` text."""
    try:
        value: Any = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and ("Comment" in value or "Software" in value):
        texts = {k: v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
        return {**texts, "stealth": text}
    return {"parameters": text, "stealth": text}


def _parse(texts: dict[str, str], errors: list[str]) -> GenerationMetadata | None:
    if not texts:
        return None
    for name, parse in PARSERS:
        try:
            record = parse(dict(texts))
        except Exception as exc:  # a parser failing on odd input must not lose the file
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if record is not None:
            return record
    return None


def _provenance(carriers: Carriers) -> dict[str, Any] | None:
    if carriers.c2pa is not None:
        found = c2pa.provenance(carriers.c2pa)
        if found is not None:
            return found
    for key in ("xmp", "XML:com.adobe.xmp"):
        if key in carriers.texts:
            declared = c2pa.xmp_provenance(carriers.texts[key])
            if declared is not None:
                return declared
    return None
