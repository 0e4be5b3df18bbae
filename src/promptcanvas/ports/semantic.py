"""Ports of the semantic layer: the in-process vector index and the store of embeddings.

VectorIndex contract:
- Keys are integers (the prompt's database pk) and each belongs to exactly one owner.
  `search(owner_id, ...)` only ever returns keys upserted for that owner: an index is a set
  of per-owner partitions, never one pool filtered afterwards.
- Vectors are unit-length float32 rows of `dim`; scores are cosine similarities (higher is
  closer), best first. An implementation may quantise what it stores (f16, i8) and may be
  approximate above a size; it says so in `describe()`.
- `upsert` replaces the vector of a key already present; `remove` of an absent key is a no-op.
- Every method may be called from several threads at once.

EmbeddingStore contract: the database side. Vectors are stored per (prompt, embedder
identity); every read is scoped to an owner or returns the owner with each row. Prompts to
(re-)embed are queued by the database itself (triggers on insert and on a change of text),
so every path that writes a prompt (API, imports, batches, restores) is covered.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptcanvas.domain.prompts import Prompt

Vector = NDArray[np.float32]


class EmbedderUnavailable(Exception):
    """The embedder could not answer now (a remote endpoint down); worth retrying later."""


class VectorIndex(abc.ABC):
    """Nearest neighbours by cosine similarity, partitioned by owner (see module docstring)."""

    dim: int

    @abc.abstractmethod
    def upsert(self, owner_id: str, keys: Sequence[int], vectors: NDArray[np.float32]) -> None:
        """Add or replace these keys' vectors in the owner's partition."""

    @abc.abstractmethod
    def remove(self, owner_id: str, keys: Sequence[int]) -> None:
        """Forget these keys of the owner (absent ones are ignored)."""

    @abc.abstractmethod
    def search(self, owner_id: str, vector: Vector, k: int) -> list[tuple[int, float]]:
        """Up to k of the owner's keys nearest to vector, as (key, cosine), best first."""

    @abc.abstractmethod
    def get(self, owner_id: str, key: int) -> Vector | None:
        """The stored vector of one of the owner's keys (as stored: maybe quantised)."""

    @abc.abstractmethod
    def size(self, owner_id: str | None = None) -> int:
        """How many vectors the owner (or everyone) has."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Sizes, memory in bytes and how each partition searches, for /metrics and benches."""


@dataclass(frozen=True)
class Queued:
    """A prompt waiting to be embedded: queue row id, prompt pk, its text now."""

    queue_id: int
    pk: int
    text: str


@dataclass(frozen=True)
class StoredVector:
    """One stored embedding with its owner (and when it was written, for syncs)."""

    pk: int
    owner_id: str
    vector: Vector
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Filters:
    """Listing filters a semantic query honours (applied to candidates in the database)."""

    tags: tuple[str, ...] = ()
    category: str | None = None
    project_id: str | None = None
    model: str | None = None
    model_version: str | None = None
    starred: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    trashed: bool = False


class EmbeddingStore(abc.ABC):
    """Stored embeddings and the queue of prompts to embed (see the module docstring)."""

    @abc.abstractmethod
    def queued_owners(self) -> list[str]:
        """Owners with prompts waiting to be embedded."""

    @abc.abstractmethod
    def owners_with_jobs(self, kind: str) -> set[str]:
        """Owners that already have a PENDING or RUNNING job of this kind."""

    @abc.abstractmethod
    def take(self, owner_id: str, limit: int) -> list[Queued]:
        """The owner's oldest queued prompts (not removed until `save` names them)."""

    @abc.abstractmethod
    def hashes(self, identity: str, pks: Sequence[int]) -> dict[int, str]:
        """The source-text hash of stored vectors of these prompts for this identity."""

    @abc.abstractmethod
    def save(
        self,
        identity: str,
        owner_id: str,
        rows: Sequence[tuple[int, str, Vector]],
        done: Sequence[int],
        now: datetime,
    ) -> None:
        """Upsert (pk, text hash, vector) rows and drop the done queue rows, in one transaction."""

    @abc.abstractmethod
    def enqueue_missing(self, identity: str) -> int:
        """Queue every prompt without a vector of this identity (and not queued yet)."""

    @abc.abstractmethod
    def load(self, identity: str, after_pk: int, limit: int) -> list[StoredVector]:
        """Stored vectors of this identity by pk, a page at a time (index builds)."""

    @abc.abstractmethod
    def changed_since(self, identity: str, since: datetime) -> list[StoredVector]:
        """Vectors of this identity written at or after `since` (index sync across processes)."""

    @abc.abstractmethod
    def coverage(self, identity: str) -> tuple[int, int, int]:
        """(prompts, prompts with a vector of this identity, queued rows)."""

    @abc.abstractmethod
    def drop_other_identities(self, identity: str) -> int:
        """Delete vectors of every other identity (after a re-embed has finished)."""

    @abc.abstractmethod
    def prompt_ref(self, owner_id: str, prompt_id: str) -> tuple[int, str] | None:
        """(pk, text) of one of the owner's prompts, or None."""

    @abc.abstractmethod
    def resolve(self, owner_id: str, pks: Sequence[int], filters: Filters) -> dict[int, Prompt]:
        """The owner's prompts among these pks that pass the filters, by pk."""

    @abc.abstractmethod
    def prompts_of_asset(self, owner_id: str, asset_id: str) -> list[int]:
        """pks of the owner's prompts with a generation holding this asset."""

    @abc.abstractmethod
    def assets_of_prompts(self, owner_id: str, pks: Sequence[int]) -> dict[int, list[str]]:
        """Asset ids of the generations of these prompts, by prompt pk."""

    @abc.abstractmethod
    def phashes(self, owner_id: str) -> list[tuple[str, str]]:
        """(asset id, perceptual hash) of the owner's images that have one."""
