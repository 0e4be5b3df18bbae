"""The semantic cache for text-model calls (prompt writing and the like).

`TextCache.complete` is the wrapper the workflows call instead of `TextModel.complete`:
1. exact layer: the same request (whitespace-normalised) in the same scope -> stored answer;
2. similarity layer: the request's embedding against the scope's stored ones; the best at or
   above `threshold` (cosine of unit vectors, default 0.90) -> its answer;
3. otherwise the model answers, and the answer is stored for `ttl_seconds`.
The scope is a hash of owner-independent facts (provider, model, resolved version, max_tokens,
temperature, seed, and every message before the last), and the store is keyed by owner too:
an answer never crosses owners, models, versions, parameters or system prompts.
Korean requests are compared through their English translation; when the translator does not
know every word, only the exact layer is used (two requests that differ only in unknown words
must not look alike). Embeddings barely see a changed colour or number ("a red cat" and
"a blue cat" score 0.96 with the shipped embedder; "3 legs" and "4 legs" 1.0), so a similar
request is only taken when it names the same numbers, colours and negations as the new one.
Only text requests pass through here: image and video calls never do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import numpy as np

from promptcanvas.domain.ids import new_id
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.embeddings import Embedder
from promptcanvas.ports.providers import InvalidRequest, TextModel, TextRequest
from promptcanvas.ports.text_cache import CacheEntry, TextCacheStore
from promptcanvas.services import translate
from promptcanvas.services.korean_lexicon import is_colour
from promptcanvas.services.korean_morph import has_hangul
from promptcanvas.services.text_cache_index import ScopeVectors

log = logging.getLogger(__name__)

Source = Literal["model", "exact", "semantic"]
_WORDS = re.compile(r"[a-z]+|[0-9]+(?:[.,][0-9]+)?")
_NEGATIONS = frozenset({"no", "not", "without", "never", "none", "nothing", "nobody"})


@dataclass(frozen=True)
class CachedText:
    """A text-model answer and where it came from."""

    text: str
    usage: dict[str, Any] = field(default_factory=dict)
    source: Source = "model"
    similarity: float | None = None  # for semantic hits: the cosine that matched


@dataclass(frozen=True)
class CacheStats:
    """Counters since the process started."""

    exact_hits: int = 0
    semantic_hits: int = 0
    misses: int = 0
    bypassed: int = 0  # calls made with the cache turned off or not asked for
    stores: int = 0
    errors: int = 0  # cache failures (the model still answered)


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _decisive(english: str) -> frozenset[str]:
    """Words an embedding underweighs but that change the answer: numbers, colours, negations."""
    words = _WORDS.findall(english.lower())
    return frozenset(w for w in words if w[0].isdigit() or w in _NEGATIONS or is_colour(w))


def _english(text: str) -> str:
    return translate.to_english(text) if has_hangul(text) else text


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class TextCache:
    """Exact and semantic caching in front of text models (see the module docstring)."""

    def __init__(
        self,
        store: TextCacheStore,
        embedder: Embedder,
        clock: Clock,
        *,
        threshold: float = 0.90,
        ttl_seconds: float = 7 * 24 * 3600,
        enabled: bool = True,
        max_candidates: int = 5000,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.clock = clock
        self.threshold = threshold
        self.ttl = timedelta(seconds=ttl_seconds)
        self.enabled = enabled and ttl_seconds > 0
        self.vectors = ScopeVectors(store, max_candidates)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(CacheStats.__dataclass_fields__, 0)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def stats(self) -> CacheStats:
        """Hit, miss and store counters, for /metrics."""
        with self._lock:
            return CacheStats(**self._counts)

    def scope(self, provider: TextModel, request: TextRequest) -> str:
        """What an answer depends on besides the request text, hashed."""
        info = provider.model(request.model, "text")
        version = provider.resolve_version(info, request.version)
        context = [(m.role, m.content) for m in request.messages[:-1]]
        facts = {
            "provider": provider.provider,
            "model": request.model,
            "version": version,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed,
            "context": context,
        }
        return _digest(json.dumps(facts, ensure_ascii=False, sort_keys=True))

    def complete(
        self, owner_id: str, provider: TextModel, request: TextRequest, *, use_cache: bool = True
    ) -> CachedText:
        """The answer from the cache when one fits, else from the model (and then cached)."""
        if not (self.enabled and use_cache) or not request.messages:
            self._count("bypassed")
            result = provider.complete(request)
            return CachedText(result.text, dict(result.usage))
        try:
            scope = self.scope(provider, request)
        except InvalidRequest:
            self._count("bypassed")
            result = provider.complete(request)  # the provider says what is wrong
            return CachedText(result.text, dict(result.usage))
        asked = request.messages[-1].content
        key = _digest(scope, _normalise(asked))
        found, vector = self._lookup(owner_id, scope, key, asked)
        if found is not None:
            return found
        self._count("misses")
        result = provider.complete(request)
        if result.text.strip():
            self._store(owner_id, scope, key, asked, result.text, dict(result.usage), vector)
        return CachedText(result.text, dict(result.usage))

    def _lookup(
        self, owner_id: str, scope: str, key: str, asked: str
    ) -> tuple[CachedText | None, np.ndarray[Any, Any] | None]:
        now = self.clock.now()
        try:
            entry = self.store.exact(owner_id, scope, key, now)
            if entry is not None:
                self.store.hit(entry.id, now)
                self._count("exact_hits")
                return CachedText(entry.answer, dict(entry.usage), "exact", 1.0), None
            english, vector = self._embed(asked)
            if vector is None:
                return None, None
            decisive = _decisive(english)
            identity = self.embedder.identity
            close = self.vectors.nearest(owner_id, scope, identity, vector, now, self.threshold)
            for candidate in close:
                if _decisive(_english(candidate.request)) != decisive:
                    continue  # "a blue cat" is not "a red cat", however close the vectors
                entry = self.store.get(candidate.entry_id, now)
                if entry is None:
                    continue  # expired or replaced since it was read
                self.store.hit(entry.id, now)
                self._count("semantic_hits")
                similarity = round(candidate.score, 4)
                return CachedText(entry.answer, dict(entry.usage), "semantic", similarity), None
            return None, vector
        except Exception:  # a cache failure must never stop the model call
            log.exception("text cache lookup failed")
            self._count("errors")
            return None, None

    def _embed(self, asked: str) -> tuple[str, np.ndarray[Any, Any] | None]:
        """The request in English and its unit vector (None when only exact matches are safe)."""
        text = asked
        if has_hangul(asked):
            translated = translate.translate(asked)
            if not translated.complete:
                return asked, None
            text = translated.english
        vector = np.asarray(self.embedder.embed([text])[0], dtype=np.float32)
        if vector.shape != (self.embedder.dim,) or not np.any(vector):
            return text, None
        return text, vector

    def _store(
        self,
        owner_id: str,
        scope: str,
        key: str,
        asked: str,
        answer: str,
        usage: dict[str, Any],
        vector: np.ndarray[Any, Any] | None,
    ) -> None:
        now = self.clock.now()
        entry = CacheEntry(
            id=new_id(),
            owner_id=owner_id,
            scope=scope,
            key=key,
            request=asked,
            answer=answer,
            created_at=now,
            expires_at=now + self.ttl,
            embedder=self.embedder.identity if vector is not None else None,
            vector=vector,
            usage=usage,
        )
        try:
            self.store.put(entry)
            self._count("stores")
        except Exception:
            log.exception("storing a text cache entry failed")
            self._count("errors")
