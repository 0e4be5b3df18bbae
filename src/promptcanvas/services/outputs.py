"""What goes inside generated files (A1111-compatible PNG text chunks) and the result cache key."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import Any

from promptcanvas.domain.text import normalize

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _quote(value: str) -> str:
    # A1111 quotes values that would break its "Key: value, Key: value" list.
    if any(c in value for c in ',:"\n'):
        return json.dumps(value, ensure_ascii=False)
    return value


def a1111_parameters(
    *,
    prompt: str,
    negative_prompt: str,
    settings: list[tuple[str, Any]],
) -> str:
    """The `parameters` text AUTOMATIC1111 writes: prompt, negative line, then settings."""
    lines = [prompt]
    if negative_prompt:
        lines.append(f"Negative prompt: {negative_prompt}")
    pairs = [f"{key}: {_quote(str(value))}" for key, value in settings if value is not None]
    lines.append(", ".join(pairs))
    return "\n".join(lines)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _text_chunk(key: str, value: str) -> bytes:
    try:
        return _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:
        # iTXt, uncompressed, no language tag: UTF-8 text (Korean prompts need it).
        body = key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")
        return _chunk(b"iTXt", body)


def embed_png_text(data: bytes, entries: list[tuple[str, str]]) -> bytes:
    """Insert text chunks right after IHDR without re-encoding the pixels.

    Bytes that are not a well-formed PNG start are returned unchanged.
    """
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return data
    (ihdr_len,) = struct.unpack(">I", data[8:12])
    cut = 8 + 12 + ihdr_len
    extra = b"".join(_text_chunk(k, v) for k, v in entries)
    return data[:cut] + extra + data[cut:]


def cache_key(
    *,
    provider: str,
    model: str,
    version: str | None,
    prompt: str,
    negative_prompt: str,
    parameters: dict[str, Any],
    seed: int | None,
) -> str:
    """SHA-256 over everything that decides a deterministic provider's output.

    Runs of whitespace count as one space (text encoders split on whitespace); case is kept.
    """
    material = json.dumps(
        [
            provider,
            model,
            version,
            " ".join(normalize(prompt).split()),
            " ".join(normalize(negative_prompt).split()),
            parameters,
            seed,
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()
