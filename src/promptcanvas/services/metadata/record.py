"""The normalised record of generation metadata read from (or written into) an image file.

Field names are ours, whatever tool wrote the file. Nothing is dropped: settings with no field of
their own go to `extra` verbatim, and `raw` keeps every original text carrier (PNG text chunk,
EXIF UserComment, XMP packet, stealth payload) keyed by where it was found.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

NO_METADATA = "no generation metadata"


@dataclass(slots=True)
class SamplerPass:
    """One sampling pass of a multi-pass graph (ComfyUI) with the text and model feeding it."""

    sampler: str | None = None
    scheduler: str | None = None
    seed: int | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    denoise: float | None = None
    model: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    node_id: str | None = None


@dataclass(slots=True)
class Lora:
    """A LoRA (or embedding/hypernetwork) the generation used, with its weight and hash."""

    name: str
    weight: float | None = None
    hash: str | None = None
    kind: str = "lora"


@dataclass(slots=True)
class GenerationMetadata:
    """Generation settings found in a file; `generator` None means none were found."""

    generator: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    sampler: str | None = None
    scheduler: str | None = None
    cfg_scale: float | None = None
    denoise: float | None = None
    model: str | None = None
    model_hash: str | None = None
    width: int | None = None
    height: int | None = None
    samplers: list[SamplerPass] = field(default_factory=list)
    loras: list[Lora] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    # What the image says about its own provenance (C2PA): {"ai_generated": bool, "by": str, ...}.
    provenance: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; a file without generation settings says so in `message`."""
        out = asdict(self)
        if self.generator is None:
            out["message"] = NO_METADATA
        return out
