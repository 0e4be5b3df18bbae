"""Semantic and hybrid prompt search, similar prompts, similar assets.

- semantic: the query's embedding against the owner's vectors; a Korean query is also
  embedded in its English translation (services.translate, when present) and each prompt
  keeps its better score.
- hybrid: reciprocal rank fusion (k = 60) of the keyword ranking (full-text search) and the
  semantic ranking, so exact words and paraphrases both count.
- keyword: the full-text ranking alone.
Every candidate goes back through the database scoped to the owner (and the listing filters)
before it is returned, so neither another user's prompt nor a trashed one can come out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from promptcanvas.domain.assets import Asset
from promptcanvas.domain.errors import InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.ports.semantic import EmbeddingStore, Filters
from promptcanvas.services.imaging import hash_distance
from promptcanvas.services.library import Library, SearchRequest
from promptcanvas.services.semantic_index import SemanticIndexer

log = logging.getLogger(__name__)

Mode = Literal["keyword", "semantic", "hybrid"]
MODES = ("keyword", "semantic", "hybrid")
RRF_K = 60
CANDIDATES = 100  # per ranking, before fusion and filtering
FILTERED_CANDIDATES = 1000  # when listing filters may discard most candidates
MIN_SIMILARITY = 0.2  # below this cosine a prompt is unrelated, not a weak match
NEAR_DUPLICATE_BITS = 10  # pHash Hamming distance (of 64) still counted as the same picture
MAX_K = 200
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


@dataclass(frozen=True)
class SimilarAsset:
    """An asset like another: a near-identical picture, or made from a similar prompt."""

    asset: Asset
    score: float
    reason: Literal["near_duplicate", "same_prompt", "similar_prompt"]
    distance: int | None = None  # pHash bits, for near duplicates
    prompt_id: str | None = None


def english_for(text: str) -> str | None:
    """The English translation of a query with Hangul in it, if the translator is installed."""
    if not _HANGUL.search(text):
        return None
    try:
        from promptcanvas.services import translate  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    try:
        english = str(translate.to_english(text)).strip()
    except Exception:  # a translator bug must not break search
        log.exception("translating a query failed")
        return None
    return english if english and english != text else None


class SemanticSearch:
    """Search modes, similar prompts and similar assets for one deployment."""

    def __init__(
        self, uow: UowFactory, library: Library, store: EmbeddingStore, indexer: SemanticIndexer
    ) -> None:
        self.uow = uow
        self.library = library
        self.store = store
        self.indexer = indexer

    # -- the API other services call ----------------------------------------------------------

    def search(
        self, owner_id: str, text: str, *, k: int = 10, mode: Mode = "hybrid"
    ) -> list[tuple[str, float]]:
        """Prompt ids with scores, best first (cosine for semantic, fused rank for hybrid)."""
        return [(p.id, score) for p, score in self.search_prompts(owner_id, text, k=k, mode=mode)]

    def similar_prompts(
        self, owner_id: str, prompt_id: str, k: int = 10
    ) -> list[tuple[str, float]]:
        """The owner's prompts most like this one (itself excluded), with cosine scores."""
        return [(p.id, score) for p, score in self.similar_prompt_objects(owner_id, prompt_id, k)]

    # -- prompts ------------------------------------------------------------------------------

    def search_prompts(
        self,
        owner_id: str,
        text: str,
        *,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: Filters = Filters(),
    ) -> list[tuple[Prompt, float]]:
        """Live prompts of the owner that pass the filters, best first."""
        if mode not in MODES:
            raise InvalidInput(f"mode must be one of {', '.join(MODES)}", {"field": "mode"})
        if not 1 <= k <= MAX_K:
            raise InvalidInput(f"k must be between 1 and {MAX_K}", {"field": "k"})
        if not text.strip():
            return []
        wide = filters != Filters()
        keyword = [] if mode == "semantic" else self._keyword(owner_id, text, filters)
        if mode == "keyword":
            return [(p, 1.0 / (rank + 1)) for rank, p in enumerate(keyword[:k])]
        semantic = self._semantic(owner_id, text, filters, wide=wide)
        if mode == "semantic":
            return semantic[:k]
        fused: dict[int, float] = {}
        prompts: dict[int, Prompt] = {}
        for ranking in ([p for p, _ in semantic], keyword):
            for rank, prompt in enumerate(ranking):
                assert prompt.pk is not None
                prompts[prompt.pk] = prompt
                fused[prompt.pk] = fused.get(prompt.pk, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda pk: (-fused[pk], -pk))[:k]
        return [(prompts[pk], fused[pk]) for pk in best]

    def _keyword(self, owner_id: str, text: str, filters: Filters) -> list[Prompt]:
        model = None
        if filters.model is not None:
            model = filters.model + (f"@{filters.model_version}" if filters.model_version else "")
        request = SearchRequest(
            q=text,
            tags=filters.tags,
            category=filters.category,
            project_id=filters.project_id,
            model=model,
            starred=filters.starred,
            since=filters.since,
            until=filters.until,
            sort="relevance",
            limit=CANDIDATES,
            trashed=filters.trashed,
        )
        return self.library.search(owner_id, request).items

    def _semantic(
        self, owner_id: str, text: str, filters: Filters, *, wide: bool, exclude: int | None = None
    ) -> list[tuple[Prompt, float]]:
        texts = [text]
        english = english_for(text)
        if english:
            texts.append(english)
        index = self.indexer.ready_index()
        if index is None:
            return []  # still being built: keyword results carry hybrid meanwhile
        vectors = self.indexer.embedder.embed(texts)
        want = FILTERED_CANDIDATES if wide else CANDIDATES
        scores: dict[int, float] = {}
        for vector in vectors:
            for pk, score in index.search(owner_id, vector, want + 1):
                if pk != exclude and score >= MIN_SIMILARITY:
                    scores[pk] = max(score, scores.get(pk, score))
        found = self.store.resolve(owner_id, list(scores), filters)
        ranked = sorted(found, key=lambda pk: (-scores[pk], -pk))
        return [(found[pk], scores[pk]) for pk in ranked]

    def similar_prompt_objects(
        self, owner_id: str, prompt_id: str, k: int = 10
    ) -> list[tuple[Prompt, float]]:
        """Prompts like this one, as prompts."""
        if not 1 <= k <= MAX_K:
            raise InvalidInput(f"k must be between 1 and {MAX_K}", {"field": "k"})
        ref = self.store.prompt_ref(owner_id, prompt_id) if is_valid_id(prompt_id) else None
        if ref is None:
            raise NotFound("prompt not found", {"prompt_id": prompt_id})
        pk, text = ref
        return self._semantic(owner_id, text, Filters(), wide=False, exclude=pk)[:k]

    # -- assets -------------------------------------------------------------------------------

    def similar_assets(self, owner_id: str, asset_id: str, k: int = 20) -> list[SimilarAsset]:
        """Near-identical pictures (pHash) first, then outputs of the same and similar prompts."""
        if not 1 <= k <= MAX_K:
            raise InvalidInput(f"k must be between 1 and {MAX_K}", {"field": "k"})
        with self.uow(write=False) as uow:
            asset = uow.assets.get(owner_id, asset_id) if is_valid_id(asset_id) else None
        if asset is None:
            raise NotFound("asset not found", {"asset_id": asset_id})
        # (asset id, score, reason, pHash distance, prompt id), in the order they are shown.
        ranked: list[tuple[str, float, str, int | None, str | None]] = []
        if asset.phash:
            near = [
                (hash_distance(asset.phash, phash), other)
                for other, phash in self.store.phashes(owner_id)
                if other != asset.id
            ]
            for distance, other in sorted(d for d in near if d[0] <= NEAR_DUPLICATE_BITS):
                ranked.append((other, 1 - distance / 64, "near_duplicate", distance, None))
        own = self._prompts_by_pk(owner_id, self.store.prompts_of_asset(owner_id, asset.id))
        related: list[tuple[Prompt, float, str]] = [(p, 1.0, "same_prompt") for p in own]
        similar: dict[int, tuple[Prompt, float]] = {}
        for prompt in own[:3]:
            for other_prompt, score in self.similar_prompt_objects(owner_id, prompt.id, k):
                assert other_prompt.pk is not None
                if score > similar.get(other_prompt.pk, (other_prompt, -1.0))[1]:
                    similar[other_prompt.pk] = (other_prompt, score)
        related += [
            (p, s, "similar_prompt") for p, s in sorted(similar.values(), key=lambda x: -x[1])
        ]
        outputs = self.store.assets_of_prompts(owner_id, [p.pk for p, _, _ in related if p.pk])
        for prompt, score, reason in related:
            for other in outputs.get(prompt.pk or 0, []):
                ranked.append((other, score, reason, None, prompt.id))
        seen: set[str] = {asset.id}
        chosen = []
        for row in ranked:
            if row[0] not in seen:
                seen.add(row[0])
                chosen.append(row)
        chosen = chosen[:k]
        with self.uow(write=False) as uow:
            found = uow.assets.assets_by_ids(owner_id, [row[0] for row in chosen])
        return [
            SimilarAsset(found[a], round(score, 4), reason, distance, prompt_id)  # type: ignore[arg-type]
            for a, score, reason, distance, prompt_id in chosen
            if a in found
        ]

    def _prompts_by_pk(self, owner_id: str, pks: Sequence[int]) -> list[Prompt]:
        found = self.store.resolve(owner_id, pks, Filters())
        return [found[pk] for pk in pks if pk in found]
