"""Our own `promptcanvas` JSON record: the exact copy of a generation that travels in its files.

Where it lives: the PNG text chunk `promptcanvas`; in JPEG and WebP an XMP packet whose
`promptcanvas:record` property (namespace `XMP_NS`) holds the same JSON, or, when the JSON would
not fit in one JPEG segment, `promptcanvas:recordz` with it zlib-compressed and base64-encoded.

The JSON (what services/runner.py writes): `generator`, `generation_id`, `prompt_id`, `prompt`,
`negative_prompt`, `provider`, `model`, `model_version`, `seed`, `parameters` (the generation's
own settings), `revised_prompt`; optionally `width`, `height`, `model_hash`, `loras`, `samplers`.

Mapping to the normalised record (and back, exactly, with `dump`):
- `parameters`: `steps`, `sampler`, `scheduler`, `cfg_scale` go to their fields and `strength`
  (our img2img setting) to `denoise` when they have the right type; every other parameter goes to
  `extra` under its own name. One whose name clashes with a top-level key below is kept as
  `extra["param:<name>"]`.
- `model_version` is a provider's version label ("2", "2024-08-01"), not a checkpoint hash, so it
  goes to `extra["model_version"]`; `model_hash` is only set when the JSON carries one. `provider`,
  `generation_id`, `prompt_id` and `revised_prompt` also go to `extra`.
- `width`/`height` come from the top-level keys; older files have none, and then from a
  `size: "WxH"` parameter (which stays in `extra` too).
- `negative_prompt` is kept as written: "" stays "" and a missing one stays None.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from promptcanvas.services.metadata.record import GenerationMetadata, Lora, SamplerPass

KEY = "promptcanvas"
GENERATOR = "PromptCanvas"
XMP_NS = "https://promptcanvas.dev/xmp/1.0/"
# Top-level keys of our JSON that land in `extra` under the same name.
TOP_EXTRA = ("provider", "model_version", "generation_id", "prompt_id", "revised_prompt")
PARAM_PREFIX = "param:"
# parameter name -> record field, for the settings with a field of their own.
_FIELDS = {
    "steps": "steps",
    "sampler": "sampler",
    "scheduler": "scheduler",
    "cfg_scale": "cfg_scale",
    "strength": "denoise",
}
_SIZE = re.compile(r"^\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*$")
# Characters XML 1.0 cannot carry even as references; JSON escapes them instead.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_MAX_TEXT = 16 * 1024 * 1024
# Carrier keys of XMP packets: "xmp" (JPEG/WebP) and PNG's iTXt keyword for XMP.
_XMP_KEYS = ("xmp", "xml:com.adobe.xmp")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _typed(name: str, value: Any) -> bool:
    if name == "steps":
        return _is_int(value)
    if name in ("sampler", "scheduler"):
        return isinstance(value, str)
    return _is_number(value)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _loras(value: Any) -> list[Lora] | None:
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        weight, hash_, kind = item.get("weight"), item.get("hash"), item.get("kind", "lora")
        if not (weight is None or _is_number(weight)) or not isinstance(kind, str):
            return None
        if not (hash_ is None or isinstance(hash_, str)):
            return None
        out.append(Lora(item["name"], weight, hash_, kind))
    return out


_PASS_FIELDS = frozenset(f.name for f in fields(SamplerPass))


def _pass_value_ok(name: str, value: Any) -> bool:
    if name not in _PASS_FIELDS:
        return False
    if value is None:
        return True
    if name in ("seed", "steps"):
        return _is_int(value)
    if name in ("cfg_scale", "denoise"):
        return _is_number(value)
    return isinstance(value, str)


def _samplers(value: Any) -> list[SamplerPass] | None:
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if not isinstance(item, dict) or not all(_pass_value_ok(k, v) for k, v in item.items()):
            return None
        out.append(SamplerPass(**item))
    return out


def from_json(obj: Mapping[str, Any]) -> GenerationMetadata:
    """The normalised record of one of our JSON records (see the module docstring)."""
    meta = GenerationMetadata(generator=_str_or_none(obj.get("generator")) or GENERATOR)
    meta.prompt = _str_or_none(obj.get("prompt"))
    meta.negative_prompt = _str_or_none(obj.get("negative_prompt"))
    meta.model = _str_or_none(obj.get("model"))
    meta.model_hash = _str_or_none(obj.get("model_hash"))
    seed = obj.get("seed")
    meta.seed = seed if _is_int(seed) else None
    for side in ("width", "height"):
        value = obj.get(side)
        if _is_int(value):
            setattr(meta, side, value)
    for name in TOP_EXTRA:
        if obj.get(name) is not None:
            meta.extra[name] = obj[name]
    params = obj.get("parameters")
    if isinstance(params, dict):
        for name, value in params.items():
            target = _FIELDS.get(name)
            if target is not None and value is not None and _typed(name, value):
                setattr(meta, target, value)
            elif name in TOP_EXTRA or name.startswith(PARAM_PREFIX):
                meta.extra[PARAM_PREFIX + name] = value
            else:
                meta.extra[name] = value
        size = params.get("size")
        match = _SIZE.match(size) if isinstance(size, str) else None
        if match and meta.width is None and meta.height is None:
            meta.width, meta.height = int(match[1]), int(match[2])
    loras, samplers = _loras(obj.get("loras")), _samplers(obj.get("samplers"))
    if loras is not None:
        meta.loras = loras
    elif obj.get("loras") is not None:
        meta.extra["loras"] = obj["loras"]
    if samplers is not None:
        meta.samplers = samplers
    elif obj.get("samplers") is not None:
        meta.extra["samplers"] = obj["samplers"]
    return meta


def dump(meta: GenerationMetadata) -> dict[str, Any]:
    """Our JSON record of a normalised record; `from_json(dump(m))` gives `m` back (not `raw`)."""
    params: dict[str, Any] = {}
    obj: dict[str, Any] = {
        "generator": meta.generator or GENERATOR,
        "prompt": meta.prompt,
        "negative_prompt": meta.negative_prompt,
        "model": meta.model,
        "seed": meta.seed,
    }
    for name, value in meta.extra.items():
        if name in TOP_EXTRA:
            obj[name] = value
        elif name.startswith(PARAM_PREFIX):
            params[name.removeprefix(PARAM_PREFIX)] = value
        elif name not in ("loras", "samplers") or not isinstance(value, list):
            params[name] = value
    for name, target in _FIELDS.items():
        value = getattr(meta, target)
        if value is not None:
            params[name] = value
    obj["parameters"] = params
    optional = {"width": meta.width, "height": meta.height, "model_hash": meta.model_hash}
    obj.update({k: v for k, v in optional.items() if v is not None})
    if meta.loras:
        obj["loras"] = [asdict(lora) for lora in meta.loras]
    elif isinstance(meta.extra.get("loras"), list):
        obj["loras"] = meta.extra["loras"]
    if meta.samplers:
        obj["samplers"] = [asdict(s) for s in meta.samplers]
    elif isinstance(meta.extra.get("samplers"), list):
        obj["samplers"] = meta.extra["samplers"]
    return obj


def to_json_text(obj: Mapping[str, Any]) -> str:
    """Our JSON as text: UTF-8 friendly, with what XML or UTF-8 cannot carry escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # Lone surrogates cannot be encoded as UTF-8; \\u escapes bring them back exactly.
    return _NOT_XML.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m[1]
        if name.startswith("#"):
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            return chr(code) if 0 < code <= 0x10FFFF else ""
        return _NAMED[name]

    return _ENTITY.sub(one, text)


def xmp_description(
    json_text: str | None, chunks: Mapping[str, str] | None = None, *, limit: int | None = None
) -> str:
    """An `rdf:Description` with our JSON and other carried text chunks (as one JSON object).

    Past `limit` bytes the JSON is stored zlib-compressed and base64-encoded (`pc:recordz`).
    """
    body = ""
    if json_text is not None:
        body = f"<pc:record>{_xml_escape(json_text)}</pc:record>"
        if limit is not None and len(body.encode()) > limit:
            packed = base64.b64encode(zlib.compress(json_text.encode(), 9)).decode()
            body = f"<pc:recordz>{packed}</pc:recordz>"
    if chunks:
        body += f"<pc:chunks>{_xml_escape(to_json_text(dict(chunks)))}</pc:chunks>"
    return f'<rdf:Description rdf:about="" xmlns:pc="{XMP_NS}">{body}</rdf:Description>'


def xmp_packet(description: str) -> str:
    """A whole XMP packet around one `rdf:Description`."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{description}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )


def _prefixes(xmp: str) -> list[str]:
    return re.findall(r"xmlns:([\w.-]+)\s*=\s*[\"']" + re.escape(XMP_NS) + "[\"']", xmp)


def _property(xmp: str, name: str) -> str | None:
    """One of our properties' text (element or attribute form, any prefix), unescaped."""
    for prefix in _prefixes(xmp):
        p = re.escape(prefix)
        found = re.search(rf"<{p}:{name}\b[^>]*>(.*?)</{p}:{name}\s*>", xmp, re.S) or re.search(
            rf"\b{p}:{name}\s*=\s*\"([^\"]*)\"", xmp
        )
        if found is not None:
            return _xml_unescape(found[1])
    return None


def json_from_xmp(xmp: str) -> str | None:
    """Our JSON text out of an XMP packet, or None."""
    text = _property(xmp, "record")
    if text is not None:
        return text
    packed = _property(xmp, "recordz")
    if packed is None:
        return None
    try:
        raw = zlib.decompressobj().decompress(base64.b64decode(packed), _MAX_TEXT)
        return raw.decode()
    except (binascii.Error, ValueError, zlib.error):
        return None


def chunks_from_xmp(xmp: str) -> dict[str, str]:
    """The other tools' text chunks we carried in an XMP packet (keyword -> text)."""
    text = _property(xmp, "chunks") if XMP_NS in xmp else None
    try:
        obj = json.loads(text) if text and len(text) <= _MAX_TEXT else None
    except (ValueError, RecursionError):
        return {}
    if not isinstance(obj, dict):
        return {}
    return {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, str)}


def record_of(value: GenerationMetadata | Mapping[str, Any]) -> GenerationMetadata:
    """A normalised record from either form writers accept."""
    return value if isinstance(value, GenerationMetadata) else from_json(value)


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """Our own record from the `promptcanvas` chunk or our XMP property, or None."""
    if not isinstance(texts, Mapping):
        return None
    candidates: list[str | None] = [texts.get(KEY)]
    for key, value in texts.items():
        if isinstance(key, str) and key.lower().startswith(_XMP_KEYS) and isinstance(value, str):
            candidates.append(json_from_xmp(value) if XMP_NS in value else None)
    for text in candidates:
        if not isinstance(text, str) or len(text) > _MAX_TEXT:
            continue
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict) and ("parameters" in obj or "generator" in obj):
            return from_json(obj)
    return None
