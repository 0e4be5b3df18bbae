"""Embedders keep the port's contract: unit rows, zero rows for nothing, stable, identified."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from promptcanvas.adapters.embedders import LazyEmbedder, build_embedder
from promptcanvas.adapters.embedders.model2vec import MODEL_DIR, StaticEmbedder
from promptcanvas.adapters.embedders.openai import OpenAIEmbedder
from promptcanvas.ports.embeddings import Embedder, FakeEmbedder
from promptcanvas.ports.semantic import EmbedderUnavailable
from promptcanvas.settings import Settings


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    return StaticEmbedder()


def test_static_model_ships_with_its_licence() -> None:
    licence = (MODEL_DIR / "LICENSE.md").read_text()
    assert "Apache License 2.0" in licence and "all-MiniLM-L6-v2" in licence
    assert (MODEL_DIR / "model.safetensors").stat().st_size < 20 * 1024 * 1024


def test_static_embedder_keeps_the_contract(static: StaticEmbedder) -> None:
    texts = ["a cute puppy running in a field", "", "portrait of a knight", "!!!"]
    vectors = static.embed(texts)
    assert vectors.shape == (4, static.dim) and vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[0] == pytest.approx(1, abs=1e-5) and norms[2] == pytest.approx(1, abs=1e-5)
    assert norms[1] == 0  # nothing to embed: similar to nothing
    alone = static.embed(["portrait of a knight"])[0]
    assert np.allclose(alone, vectors[2], atol=1e-6)  # the batch does not matter
    assert static.embed([]).shape == (0, static.dim)
    assert static.identity == "model2vec:minilm-static-256@1" and static.dim == 256


def test_static_embedder_truncates_instead_of_refusing(static: StaticEmbedder) -> None:
    long = "a castle on a hill " * 2000
    vector = static.embed([long])[0]
    assert np.linalg.norm(vector) == pytest.approx(1, abs=1e-5)


def test_a_paraphrase_is_closer_than_a_hard_distractor(static: StaticEmbedder) -> None:
    prompt, paraphrase, distractor = static.embed(
        [
            "a cute puppy running through a sunny meadow",
            "little dog dashing across a field on a bright day",
            "a cute kitten sleeping in a sunny meadow",
        ]
    )
    assert float(prompt @ paraphrase) > float(distractor @ paraphrase)


def test_the_default_embedder_loads_without_torch() -> None:
    code = (
        "import sys; from promptcanvas.adapters.embedders import build_embedder;"
        "from promptcanvas.settings import Settings;"
        "e = build_embedder(Settings()); e.embed(['a red fox']);"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_embedder_builds_once_on_first_use() -> None:
    built: list[Embedder] = []

    def build() -> Embedder:
        built.append(FakeEmbedder(16))
        return built[-1]

    lazy = LazyEmbedder(build)
    assert built == []
    assert lazy.identity == "fake:bag-of-words-16@1" and lazy.dim == 16
    assert lazy.embed(["red fox"]).shape == (1, 16)
    assert len(built) == 1


class _Embeddings(BaseHTTPRequestHandler):
    """POST /v1/embeddings in OpenAI's published shape; a word-count vector per input."""

    status = 200
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **body}
        )
        if self.status != 200 or self.path != "/v1/embeddings":
            self.send_response(self.status if self.path == "/v1/embeddings" else 404)
            self.end_headers()
            return
        dim = body.get("dimensions", 8)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t) % 7 + 1)] * dim}
            for i, t in enumerate(body["input"])
        ]
        data.reverse()  # the index field orders them, not their position
        payload = json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Embeddings.status = 200
    _Embeddings.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_embedder_speaks_the_embeddings_api(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_EMBED_KEY", "sk-test")
    embedder = OpenAIEmbedder(
        base_url=endpoint, model="nomic-embed-text", api_key_env="TEST_EMBED_KEY"
    )
    vectors = embedder.embed(["a red fox", "", "an owl at night"])
    assert embedder.dim == 8  # learnt from the answer
    assert vectors.shape == (3, 8)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1) and not vectors[1].any()
    (request,) = _Embeddings.seen
    assert request["input"] == ["a red fox", "an owl at night"]  # empty text not sent
    assert request["auth"] == "Bearer sk-test" and request["encoding_format"] == "float"
    assert (
        embedder.identity.startswith("openai:127.0.0.1:")
        and "nomic-embed-text" in embedder.identity
    )


def test_openai_embedder_asks_for_a_dimension_and_fails_cleanly(endpoint: str) -> None:
    embedder = OpenAIEmbedder(base_url=endpoint, model="text-embedding-3-small", dim=16)
    assert embedder.embed(["a"]).shape == (1, 16)
    assert _Embeddings.seen[-1]["dimensions"] == 16
    _Embeddings.status = 503
    with pytest.raises(EmbedderUnavailable, match="503"):
        embedder.embed(["a"])
    down = OpenAIEmbedder(base_url="http://127.0.0.1:9/v1", model="m", dim=4, timeout=2)
    with pytest.raises(EmbedderUnavailable, match="unreachable"):
        down.embed(["a"])


def test_settings_choose_the_embedder(endpoint: str) -> None:
    chosen = build_embedder(
        Settings(embedder="openai", embedder_base_url=endpoint, embedder_model="m", embedder_dim=8)
    )
    assert isinstance(chosen, OpenAIEmbedder) and chosen.dim == 8
    assert isinstance(build_embedder(Settings()), StaticEmbedder)


def test_minilm_embedder_when_its_extra_is_installed() -> None:
    pytest.importorskip("sentence_transformers", reason="the [minilm] extra is not installed")
    from promptcanvas.adapters.embedders.minilm import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    prompt, paraphrase, other = embedder.embed(
        ["a puppy running in a meadow", "a little dog dashing across a field", "a red sports car"]
    )
    assert float(prompt @ paraphrase) > float(prompt @ other)
    assert embedder.embed([""])[0].any() == np.False_
