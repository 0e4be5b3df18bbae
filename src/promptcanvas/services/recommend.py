"""Recommendations: past prompts most useful for a new request, and retrieval for text models.

Candidates come from hybrid search (keyword and semantic rankings fused; a Korean request is
also searched in its English translation). Each is then weighed by what it led to:
    score = 0.7 * relevance + 0.15 * rating/5 + 0.05 * starred + 0.1 * outcome
where relevance is the search score relative to the best candidate's, and outcome grows with
the number of outputs (1 for ten or more). Relevance leads; among similar prompts, the ones
that were rated, starred and used win. `retrieve` returns the same prompts with their outputs,
for a workflow to put in front of a text model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.errors import InvalidInput
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.services.korean_morph import has_hangul
from promptcanvas.services.translate import to_english

MAX_K = 50
DEFAULT_K = 5
MAX_TEXT = 2000
POOL = 4  # candidates looked at per recommendation asked for
MAX_ASSETS = 4  # outputs returned per prompt
WEIGHTS = {"relevance": 0.7, "rating": 0.15, "starred": 0.05, "outcome": 0.1}


class PromptFinder(Protocol):
    """What recommendations need of search (services.semantic.SemanticSearch provides it)."""

    def search(
        self, owner_id: str, text: str, *, k: int, mode: Literal["keyword", "semantic", "hybrid"]
    ) -> list[tuple[str, float]]:
        """Prompt ids with scores, best first."""
        ...


@dataclass(frozen=True)
class Recommendation:
    """A past prompt, why it ranks where it does, and what it produced."""

    prompt: Prompt
    score: float
    relevance: float  # 0..1, relative to the most relevant candidate
    outputs: int
    last_used_at: datetime | None
    generations: list[Generation] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)  # up to MAX_ASSETS, newest first


@dataclass(frozen=True)
class Recommendations:
    """The request as understood, and the ranked prompts."""

    text: str
    english: str | None  # the translation searched too, for Korean requests
    items: list[Recommendation]


def check_request(text: str, k: int) -> str:
    """The request's text, or a 422 naming what is wrong."""
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidInput("text: describe what you want to make", {"field": "text"})
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"text: at most {MAX_TEXT} characters", {"field": "text"})
    if "\x00" in text:
        raise InvalidInput("text: must not contain NUL characters", {"field": "text"})
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K}", {"field": "k"})
    return text


def _outcome(count: int) -> float:
    return min(1.0, math.log1p(count) / math.log1p(10))


class Recommender:
    """Ranks an owner's past prompts for a new request."""

    def __init__(self, uow: UowFactory, finder: PromptFinder) -> None:
        self.uow = uow
        self.finder = finder

    def recommend(self, owner_id: str, text: str, k: int = DEFAULT_K) -> Recommendations:
        """The k past prompts most useful for this request, best first."""
        text = check_request(text, k)
        found = self.finder.search(owner_id, text, k=min(k * POOL, 200), mode="hybrid")
        english = to_english(text) if has_hangul(text) else None
        if not found:
            return Recommendations(text, english, [])
        top = max(score for _, score in found) or 1.0
        relevance = {pid: score / top for pid, score in found}
        items = []
        with self.uow(write=False) as uow:
            for prompt_id in relevance:
                prompt = uow.prompts.get(owner_id, prompt_id)
                if prompt is None or prompt.deleted_at is not None:
                    continue  # search is owner-scoped already; this re-checks at read time
                gens = uow.assets.generations_for_prompt(owner_id, prompt_id)
                items.append(self._weigh(prompt, relevance[prompt_id], gens))
            items.sort(key=lambda r: (-r.score, -r.relevance))
            items = items[:k]
            ids = [a for r in items for g in reversed(r.generations) for a in g.asset_ids]
            assets = uow.assets.assets_by_ids(owner_id, ids)
        return Recommendations(text, english, [self._with_assets(r, assets) for r in items])

    def retrieve(self, owner_id: str, text: str, k: int = DEFAULT_K) -> list[Recommendation]:
        """Prompts, outputs and ratings most like the request, to condition a text model."""
        return self.recommend(owner_id, text, k).items

    @staticmethod
    def _weigh(prompt: Prompt, relevance: float, gens: list[Generation]) -> Recommendation:
        done = [g for g in gens if g.status == "SUCCESS"]
        outputs = max(prompt.output_count, sum(len(g.asset_ids) for g in done))
        last = max((g.finished_at or g.created_at for g in gens), default=None)
        score = (
            WEIGHTS["relevance"] * relevance
            + WEIGHTS["rating"] * (prompt.rating or 0) / 5
            + WEIGHTS["starred"] * prompt.starred
            + WEIGHTS["outcome"] * _outcome(outputs)
        )
        return Recommendation(prompt, round(score, 4), round(relevance, 4), outputs, last, done)

    @staticmethod
    def _with_assets(item: Recommendation, assets: dict[str, Asset]) -> Recommendation:
        ids = [a for g in reversed(item.generations) for a in g.asset_ids if a in assets]
        chosen = [assets[a] for a in dict.fromkeys(ids)][:MAX_ASSETS]
        return Recommendation(
            item.prompt,
            item.score,
            item.relevance,
            item.outputs,
            item.last_used_at,
            item.generations,
            chosen,
        )
