"""The in-process vector index: one shard per owner, promoted to a graph past a threshold.

Per-owner shards make tenant isolation structural: a query reads only its owner's shard.
A shard searches exactly (float32, one BLAS product) until it holds `exact_limit` vectors;
past that it is rebuilt once as a usearch HNSW graph over quantised vectors: in f16 (the
default) a million 256-d prompts take ~0.76 GB and a top-10 query ~1 ms (BENCHMARKS.md); i8
halves the vectors but its rounding reorders close scores (recall@10 0.72 against 0.94).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptcanvas.adapters.vectors.shards import ExactShard, GraphShard, Quantisation
from promptcanvas.ports.semantic import Vector, VectorIndex

Shard = ExactShard | GraphShard


class InProcessIndex(VectorIndex):
    """Thread-safe: writers take the lock; a graph is built outside it and swapped in."""

    def __init__(
        self,
        dim: int,
        *,
        exact_limit: int = 20_000,
        quantisation: Quantisation = "f16",
        expansion_search: int = 256,
    ) -> None:
        self.dim = dim
        self.exact_limit = exact_limit
        self.quantisation = quantisation
        self.expansion_search = expansion_search
        self._shards: dict[str, Shard] = {}
        # Owners whose shard is being rebuilt as a graph, with the writes made meanwhile.
        self._pending: dict[str, list[tuple[list[int], NDArray[np.float32] | None]]] = {}
        self._lock = threading.RLock()

    def _check(self, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        rows = np.asarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"expected vectors of {self.dim} dimensions, got {rows.shape}")
        return rows

    def upsert(self, owner_id: str, keys: Sequence[int], vectors: NDArray[np.float32]) -> None:
        """Add or replace; promote the owner's shard to a graph when it grows past the limit."""
        rows = self._check(vectors)
        if len(keys) != len(rows):
            raise ValueError("one vector per key")
        with self._lock:
            shard = self._shards.get(owner_id)
            if shard is None:
                shard = self._shards[owner_id] = ExactShard(self.dim)
            shard.upsert(list(keys), rows)
            if owner_id in self._pending:
                self._pending[owner_id].append((list(keys), rows))
                return
            if not isinstance(shard, ExactShard) or len(shard) <= self.exact_limit:
                return
            self._pending[owner_id] = []
            snapshot = shard.items()
        self._promote(owner_id, *snapshot)

    def _promote(self, owner_id: str, keys: NDArray[np.int64], rows: NDArray[np.float32]) -> None:
        """Build the graph without the lock (queries keep using the exact shard), then swap."""
        graph = GraphShard(self.dim, self.quantisation, expansion_search=self.expansion_search)
        try:
            graph.upsert(keys.tolist(), rows)
        except BaseException:
            with self._lock:
                self._pending.pop(owner_id, None)  # keep the exact shard; the next write retries
            raise
        with self._lock:
            for changed, vectors in self._pending.pop(owner_id, []):
                if vectors is None:
                    graph.remove(changed)
                else:
                    graph.upsert(changed, vectors)
            self._shards[owner_id] = graph

    def remove(self, owner_id: str, keys: Sequence[int]) -> None:
        """Forget these keys of the owner."""
        with self._lock:
            shard = self._shards.get(owner_id)
            if shard is not None:
                shard.remove(list(keys))
            if owner_id in self._pending:
                self._pending[owner_id].append((list(keys), None))

    def search(self, owner_id: str, vector: Vector, k: int) -> list[tuple[int, float]]:
        """Only the owner's shard is read."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dim:
            raise ValueError(f"expected a query of {self.dim} dimensions")
        if not np.any(query):
            return []  # a zero vector is similar to nothing
        with self._lock:
            shard = self._shards.get(owner_id)
            if shard is None:
                return []
            return shard.search(query, k)

    def get(self, owner_id: str, key: int) -> Vector | None:
        """The owner's stored vector for key."""
        with self._lock:
            shard = self._shards.get(owner_id)
            return None if shard is None else shard.get(key)

    def size(self, owner_id: str | None = None) -> int:
        """Vectors of one owner, or of all."""
        with self._lock:
            if owner_id is not None:
                shard = self._shards.get(owner_id)
                return 0 if shard is None else len(shard)
            return sum(len(s) for s in self._shards.values())

    def describe(self) -> dict[str, Any]:
        """Totals and the kind of every shard."""
        with self._lock:
            shards = list(self._shards.values())
        return {
            "dim": self.dim,
            "vectors": sum(len(s) for s in shards),
            "owners": len(shards),
            "exact_owners": sum(1 for s in shards if s.kind == "exact"),
            "hnsw_owners": sum(1 for s in shards if s.kind == "hnsw"),
            "memory_bytes": sum(s.memory() for s in shards),
            "exact_limit": self.exact_limit,
            "quantisation": self.quantisation,
        }
