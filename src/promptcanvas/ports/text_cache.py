"""The store behind the semantic cache of text-model answers.

Contract, for every implementation:
- An entry belongs to one owner and one scope (a hash of provider, model, version, sampling
  parameters and the conversation before the last message). Every read takes both, so an
  answer can never be served to another owner or for another model or parameters.
- `exact` finds the live entry with this key (a hash of scope and normalised request).
- `candidates` lists live entries of the owner and scope whose vectors came from the named
  embedder, newest first, at most `limit`; entries stored without a vector are never listed.
  With `since`, only entries created at or after it (so a caller can keep up incrementally).
- `get` returns one live entry by id (None once it expired or was replaced).
- An entry is live until `expires_at`; expired entries are never returned, and `put` may
  delete expired entries of the same owner and scope.
- `put` replaces an entry with the same (owner, scope, key).
- Methods may be called from several threads at once.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class CacheEntry:
    """One cached answer."""

    id: str
    owner_id: str
    scope: str
    key: str
    request: str  # the last user message, as sent
    answer: str
    created_at: datetime
    expires_at: datetime
    embedder: str | None = None  # identity of the embedder that made `vector`
    vector: NDArray[np.float32] | None = None
    usage: Mapping[str, Any] = field(default_factory=dict)
    hits: int = 0


class TextCacheStore(abc.ABC):
    """Cached text-model answers (see the module docstring for the contract)."""

    @abc.abstractmethod
    def exact(self, owner_id: str, scope: str, key: str, now: datetime) -> CacheEntry | None:
        """The live entry with this key, or None."""

    @abc.abstractmethod
    def candidates(
        self,
        owner_id: str,
        scope: str,
        embedder: str,
        now: datetime,
        limit: int,
        since: datetime | None = None,
    ) -> list[CacheEntry]:
        """Live entries with vectors from this embedder, newest first (created >= since)."""

    @abc.abstractmethod
    def get(self, entry_id: str, now: datetime) -> CacheEntry | None:
        """One live entry by id."""

    @abc.abstractmethod
    def put(self, entry: CacheEntry) -> None:
        """Store or replace the entry; may drop expired ones of its owner and scope."""

    @abc.abstractmethod
    def hit(self, entry_id: str, now: datetime) -> None:
        """Count a use of the entry."""


class MemoryTextCacheStore(TextCacheStore):
    """A dict-backed store for tests, with the same contract."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], CacheEntry] = {}
        self._lock = threading.Lock()

    def exact(self, owner_id: str, scope: str, key: str, now: datetime) -> CacheEntry | None:
        """The live entry with this key."""
        found = self.entries.get((owner_id, scope, key))
        return found if found is not None and found.expires_at > now else None

    def candidates(
        self,
        owner_id: str,
        scope: str,
        embedder: str,
        now: datetime,
        limit: int,
        since: datetime | None = None,
    ) -> list[CacheEntry]:
        """Live entries with vectors from this embedder, newest first."""
        with self._lock:
            found = [
                e
                for (owner, sc, _), e in self.entries.items()
                if owner == owner_id and sc == scope and e.embedder == embedder
                and e.vector is not None and e.expires_at > now
                and (since is None or e.created_at >= since)
            ]  # fmt: skip
        return sorted(found, key=lambda e: e.created_at, reverse=True)[:limit]

    def get(self, entry_id: str, now: datetime) -> CacheEntry | None:
        """One live entry by id."""
        with self._lock:
            found = [e for e in self.entries.values() if e.id == entry_id]
        return found[0] if found and found[0].expires_at > now else None

    def put(self, entry: CacheEntry) -> None:
        """Store or replace."""
        with self._lock:
            self.entries[(entry.owner_id, entry.scope, entry.key)] = entry

    def hit(self, entry_id: str, now: datetime) -> None:  # noqa: ARG002
        """Count a use."""
        with self._lock:
            for key, entry in self.entries.items():
                if entry.id == entry_id:
                    self.entries[key] = replace(entry, hits=entry.hits + 1)
