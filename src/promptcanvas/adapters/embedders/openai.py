"""Any OpenAI-compatible `/embeddings` endpoint: OpenAI, Ollama, vLLM, LM Studio.

One POST per batch of at most 256 texts, `encoding_format: float`. The dimension is asked
for when configured (OpenAI's text-embedding-3 models shorten on request) and otherwise read
from the first answer. Texts are cut to about `max_tokens` worth of characters, since the
server's tokenizer is not known here. No retries in the adapter: the embedding job retries.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from promptcanvas.ports.embeddings import Embedder, Vectors, normalise_rows
from promptcanvas.ports.semantic import EmbedderUnavailable

BATCH = 256
CHARS_PER_TOKEN = 4


class OpenAIEmbedder(Embedder):
    """Embeddings from an OpenAI-shaped HTTP API."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        dim: int | None = None,
        timeout: float = 30.0,
        max_tokens: int = 8191,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_tokens = max_tokens
        self._asked_dim = dim
        self._dim = dim
        key = os.environ.get(api_key_env, "").strip() if api_key_env else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)
        self._lock = threading.Lock()
        host = urlsplit(self.base_url).netloc or self.base_url
        self.identity = f"openai:{host}/{model}@{dim or 'native'}"

    @property
    def dim(self) -> int:  # type: ignore[override]
        """The vector size: configured, or learnt from one probe request."""
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Vectors from the API in input order; empty texts are not sent and stay zero."""
        todo = [i for i, text in enumerate(texts) if text.strip()]
        found: dict[int, list[float]] = {}
        limit = self.max_tokens * CHARS_PER_TOKEN
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            rows = self._post([texts[i][:limit] for i in chunk])
            found.update(zip(chunk, rows, strict=True))
        width = self._dim or (len(next(iter(found.values()))) if found else 0)
        out = np.zeros((len(texts), width), dtype=np.float32)
        for i, row in found.items():
            out[i] = row
        return normalise_rows(out)

    def _post(self, inputs: list[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.model, "input": inputs, "encoding_format": "float"}
        if self._asked_dim:
            body["dimensions"] = self._asked_dim
        try:
            response = self._client.post(f"{self.base_url}/embeddings", json=body)
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            raise EmbedderUnavailable(f"embeddings endpoint unreachable: {reason}") from None
        if response.status_code != 200:
            raise EmbedderUnavailable(f"embeddings endpoint answered {response.status_code}")
        try:
            data = response.json()["data"]
            rows = sorted(data, key=lambda item: int(item["index"]))
            vectors = [[float(x) for x in item["embedding"]] for item in rows]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderUnavailable("embeddings endpoint sent a body of the wrong shape") from exc
        if len(vectors) != len(inputs) or len({len(v) for v in vectors}) != 1:
            raise EmbedderUnavailable("embeddings endpoint sent the wrong number of vectors")
        with self._lock:
            if self._dim is None:
                self._dim = len(vectors[0])
            elif len(vectors[0]) != self._dim:
                raise EmbedderUnavailable(
                    f"embeddings endpoint changed dimension ({len(vectors[0])} != {self._dim})"
                )
        return vectors
