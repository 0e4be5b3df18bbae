"""What goes inside generated files (A1111-compatible PNG text chunks) and the result cache key.

The metadata writing itself lives in services/metadata/writer.py; its PNG helpers are
re-exported here for the job runner.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from promptcanvas.domain.text import normalize
from promptcanvas.services.metadata.carriers import PNG_SIGNATURE
from promptcanvas.services.metadata.writer import a1111_parameters, embed_png_text

__all__ = ["PNG_SIGNATURE", "a1111_parameters", "cache_key", "embed_png_text"]


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
