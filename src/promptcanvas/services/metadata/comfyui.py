"""ComfyUI graphs (`prompt` API graph, `workflow` UI graph): being written; finds nothing yet."""

from __future__ import annotations

from promptcanvas.services.metadata.record import GenerationMetadata


def parse(texts: dict[str, str]) -> GenerationMetadata | None:
    """The generation settings in a ComfyUI `prompt`/`workflow` chunk, or None."""
    del texts
    return None
