"""One owner's vectors: exact NumPy search while small, a usearch HNSW graph once large."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from usearch.index import Index

Quantisation = Literal["f32", "f16", "i8"]
Vectors = NDArray[np.float32]


def top_k(scores: NDArray[np.float32], keys: NDArray[np.int64], k: int) -> list[tuple[int, float]]:
    """The k best (key, score) pairs, best first, ties broken by the larger key (newer)."""
    if k <= 0 or scores.size == 0:
        return []
    part = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    order = part[np.lexsort((-keys[part], -scores[part]))]
    return [(int(keys[i]), float(scores[i])) for i in order]


class ExactShard:
    """float32 rows in a growable matrix; a query is one matrix-vector product."""

    kind = "exact"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._keys = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros((0, dim), dtype=np.float32)
        self._n = 0
        self._where: dict[int, int] = {}

    def __len__(self) -> int:
        return self._n

    def upsert(self, keys: Sequence[int], vectors: Vectors) -> None:
        """Replace known keys in place, append the others (doubling the capacity)."""
        for key, vector in zip(keys, vectors, strict=True):
            row = self._where.get(key)
            if row is None:
                if self._n == len(self._keys):
                    self._grow(max(64, 2 * self._n))
                row = self._n
                self._n += 1
                self._where[key] = row
                self._keys[row] = key
            self._rows[row] = vector

    def _grow(self, capacity: int) -> None:
        keys = np.zeros(capacity, dtype=np.int64)
        rows = np.zeros((capacity, self.dim), dtype=np.float32)
        keys[: self._n] = self._keys[: self._n]
        rows[: self._n] = self._rows[: self._n]
        self._keys, self._rows = keys, rows

    def remove(self, keys: Sequence[int]) -> None:
        """Move the last row into each freed slot, so the live rows stay contiguous."""
        for key in keys:
            row = self._where.pop(key, None)
            if row is None:
                continue
            last = self._n - 1
            if row != last:
                moved = int(self._keys[last])
                self._keys[row] = moved
                self._rows[row] = self._rows[last]
                self._where[moved] = row
            self._n = last

    def search(self, vector: Vectors, k: int) -> list[tuple[int, float]]:
        """Exact cosine over every row."""
        scores = self._rows[: self._n] @ vector
        return top_k(scores, self._keys[: self._n], k)

    def get(self, key: int) -> Vectors | None:
        """The stored row of a key."""
        row = self._where.get(key)
        return None if row is None else self._rows[row].copy()

    def items(self) -> tuple[NDArray[np.int64], Vectors]:
        """Every (key, row), for promoting the shard to a graph."""
        return self._keys[: self._n].copy(), self._rows[: self._n].copy()

    def memory(self) -> int:
        """Bytes held by the matrix, the keys and the key map (about 100 bytes an entry)."""
        return int(self._rows.nbytes + self._keys.nbytes + 100 * len(self._where))


class GraphShard:
    """A usearch HNSW graph over quantised vectors: approximate, logarithmic query time."""

    kind = "hnsw"

    def __init__(
        self,
        dim: int,
        quantisation: Quantisation,
        *,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int = 96,
    ) -> None:
        self.dim = dim
        self.quantisation = quantisation
        self.index = Index(
            ndim=dim,
            metric="cos",
            dtype=quantisation,
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
        )

    def __len__(self) -> int:
        return len(self.index)

    def upsert(self, keys: Sequence[int], vectors: Vectors) -> None:
        """Remove keys already present, then add (usearch keys are unique in this mode)."""
        wanted = np.asarray(keys, dtype=np.uint64)
        if len(wanted) == 0:
            return
        present = np.asarray(self.index.contains(wanted), dtype=bool).reshape(-1)
        if present.any():
            self.index.remove(wanted[present])
        # A zero vector has no direction; cosine distance to it is undefined in the graph.
        vectors = np.asarray(vectors, dtype=np.float32)
        usable = np.linalg.norm(vectors, axis=1) > 0
        if usable.any():
            self.index.add(wanted[usable], vectors[usable], threads=0)

    def remove(self, keys: Sequence[int]) -> None:
        """Forget keys; absent ones are ignored."""
        wanted = np.asarray(keys, dtype=np.uint64)
        if len(wanted):
            present = np.asarray(self.index.contains(wanted), dtype=bool).reshape(-1)
            if present.any():
                self.index.remove(wanted[present])

    def search(self, vector: Vectors, k: int) -> list[tuple[int, float]]:
        """Approximate nearest neighbours; cosine = 1 - distance."""
        if len(self.index) == 0 or k <= 0:
            return []
        found = self.index.search(vector, min(k, len(self.index)))
        pairs = zip(found.keys, found.distances, strict=True)
        return [(int(key), 1.0 - float(d)) for key, d in pairs]

    def get(self, key: int) -> Vectors | None:
        """The stored (dequantised) vector of a key."""
        if not self.index.contains(key):
            return None
        found: Any = self.index.get(key, dtype="f32")
        return None if found is None else np.asarray(found, dtype=np.float32).reshape(-1)

    def memory(self) -> int:
        """Bytes usearch reports for vectors and graph."""
        return int(self.index.memory_usage)
