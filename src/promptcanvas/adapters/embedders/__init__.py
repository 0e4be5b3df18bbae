"""Embedders: the shipped static model (default), full MiniLM (extra), OpenAI-compatible APIs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from promptcanvas.ports.embeddings import Embedder, Vectors
from promptcanvas.settings import Settings


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name (optional ones are imported only when chosen)."""
    if settings.embedder == "minilm":
        from promptcanvas.adapters.embedders.minilm import MiniLMEmbedder

        return MiniLMEmbedder()
    if settings.embedder == "openai":
        from promptcanvas.adapters.embedders.openai import OpenAIEmbedder

        return OpenAIEmbedder(
            base_url=settings.embedder_base_url or "https://api.openai.com/v1",
            model=settings.embedder_model or "text-embedding-3-small",
            api_key_env=settings.embedder_api_key_env,
            dim=settings.embedder_dim,
            timeout=settings.embedder_timeout_seconds,
        )
    from promptcanvas.adapters.embedders.model2vec import StaticEmbedder

    return StaticEmbedder()


class LazyEmbedder(Embedder):
    """Builds the configured embedder on first use: processes that never search pay nothing."""

    def __init__(self, build: Callable[[], Embedder]) -> None:
        self._build = build
        self._real: Embedder | None = None
        self._lock = threading.Lock()

    def _get(self) -> Embedder:
        if self._real is None:
            with self._lock:
                if self._real is None:
                    self._real = self._build()
        return self._real

    @property
    def identity(self) -> str:  # type: ignore[override]
        """The real embedder's identity."""
        return self._get().identity

    @property
    def dim(self) -> int:  # type: ignore[override]
        """The real embedder's dimension."""
        return self._get().dim

    @property
    def max_tokens(self) -> int:  # type: ignore[override]
        """The real embedder's input limit."""
        return self._get().max_tokens

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Delegates to the real embedder."""
        return self._get().embed(texts)
