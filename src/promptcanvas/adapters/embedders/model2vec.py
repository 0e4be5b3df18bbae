"""The default embedder: a static model2vec model distilled from all-MiniLM-L6-v2.

A text's vector is the SIF-weighted mean of its token vectors, so embedding is a tokenizer
pass and a table lookup: no torch, tens of thousands of prompts per second on one core.
The weights ship inside the package (models/minilm-static-256, Apache-2.0, rebuilt by
scripts/distil_embedder.py); nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from model2vec import StaticModel

from promptcanvas.ports.embeddings import Embedder, Vectors, normalise_rows

MODEL_DIR = Path(__file__).parent / "models" / "minilm-static-256"
# Bump whenever the shipped weights change, so every stored vector is redone.
MODEL_VERSION = 1


class StaticEmbedder(Embedder):
    """model2vec inference over a local model folder (thread-safe: tokenizers releases the GIL)."""

    def __init__(self, path: Path = MODEL_DIR, *, version: int = MODEL_VERSION) -> None:
        self.model = StaticModel.from_pretrained(path)
        self.dim = int(self.model.dim)
        self.max_tokens = 512
        self.identity = f"model2vec:{path.name}@{version}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Mean of token vectors, unit length; a text with no known token gives a zero row."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Multiprocessing would fork the server for big batches; one process is fast enough.
        raw = self.model.encode(
            list(texts), max_length=self.max_tokens, use_multiprocessing=False, batch_size=4096
        )
        return normalise_rows(np.asarray(raw, dtype=np.float32))
