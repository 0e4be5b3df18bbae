"""The vectors of one cache scope kept in memory, caught up with the store on every lookup.

Reading a full scope from the database costs ~100 ms at 5,000 entries; after the first
lookup only entries created since the newest one seen are read. Entries never change once
written (a replaced or purged one has expired or gets a new id), so appending is enough;
expiry is checked against the kept `expires_at`, and a hit is re-read by id before use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from promptcanvas.ports.text_cache import TextCacheStore

MAX_SCOPES = 64  # scopes kept in memory, least recently used dropped first


@dataclass
class _Scope:
    ids: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    expires: list[datetime] = field(default_factory=list)
    vectors: list[np.ndarray[Any, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    newest: datetime | None = None
    matrix: np.ndarray[Any, Any] | None = None


@dataclass(frozen=True)
class Candidate:
    """A cached request close to the new one."""

    entry_id: str
    request: str
    score: float


class ScopeVectors:
    """Per (owner, scope, embedder): ids, requests and a matrix of unit vectors."""

    def __init__(self, store: TextCacheStore, limit: int) -> None:
        self.store = store
        self.limit = limit
        self._scopes: OrderedDict[tuple[str, str, str], _Scope] = OrderedDict()
        self._lock = threading.Lock()

    def nearest(
        self,
        owner_id: str,
        scope: str,
        embedder: str,
        vector: np.ndarray[Any, Any],
        now: datetime,
        threshold: float,
    ) -> list[Candidate]:
        """Live cached requests at or above the threshold, most similar first."""
        key = (owner_id, scope, embedder)
        with self._lock:
            kept = self._scopes.pop(key, None) or _Scope()
            self._scopes[key] = kept
            while len(self._scopes) > MAX_SCOPES:
                self._scopes.popitem(last=False)
            fresh = self.store.candidates(owner_id, scope, embedder, now, self.limit, kept.newest)
            for entry in reversed(fresh):  # oldest first, so the lists stay in time order
                if entry.id in kept.seen or entry.vector is None:
                    continue
                kept.seen.add(entry.id)
                kept.ids.append(entry.id)
                kept.requests.append(entry.request)
                kept.expires.append(entry.expires_at)
                kept.vectors.append(entry.vector)
                kept.matrix = None
                kept.newest = entry.created_at
            if len(kept.ids) > self.limit:
                cut = len(kept.ids) - self.limit
                kept.seen.difference_update(kept.ids[:cut])
                del kept.ids[:cut], kept.requests[:cut], kept.expires[:cut], kept.vectors[:cut]
                kept.matrix = None
            if not kept.ids:
                return []
            if kept.matrix is None:
                kept.matrix = np.stack(kept.vectors)
            scores = kept.matrix @ vector
            close = np.flatnonzero(scores >= threshold)
            close = close[np.argsort(-scores[close])]
            return [
                Candidate(kept.ids[i], kept.requests[i], float(scores[i]))
                for i in close
                if kept.expires[i] > now
            ]
