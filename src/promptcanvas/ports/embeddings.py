"""The Embedder port: text to vectors for semantic search, similar work and the semantic cache.

Contract, for every implementation:
- `embed(texts)` returns a float32 array of shape (len(texts), dim). Every row has unit L2 norm,
  so the dot product of two rows is their cosine similarity; a text with nothing to embed
  (empty, or only unknown symbols) gives a zero row, which is similar to nothing.
- The same text gives the same vector every time (no sampling, no batching effects beyond
  float rounding), whatever else is in the batch.
- Texts longer than `max_tokens` are truncated by the embedder, never rejected.
- `identity` names the model and its version (e.g. "model2vec:pc-minilm-256@1"); vectors from
  embedders with different identities are never compared: stored vectors are tagged with it,
  and a change of embedder re-embeds everything.
- `embed` may be called from several threads at once.
"""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]


class Embedder(abc.ABC):
    """Turns texts into unit-length vectors (see the module docstring for the contract)."""

    identity: str
    dim: int
    max_tokens: int

    @abc.abstractmethod
    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length float32 row per text (a zero row when there is nothing to embed)."""


def normalise_rows(matrix: NDArray[np.float32]) -> Vectors:
    """Rows scaled to unit length; all-zero rows stay zero."""
    out: Vectors = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    scaled: Vectors = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return scaled


class FakeEmbedder(Embedder):
    """A hashed bag of lower-cased words: texts sharing words are similar. For tests only."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.identity = f"fake:bag-of-words-{dim}@1"
        self.max_tokens = 512

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Each word adds one to a hashed coordinate; rows are then normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower())[: self.max_tokens]:
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "big") % self.dim] += 1.0
        return normalise_rows(out)
