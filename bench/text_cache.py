"""The semantic cache of text-model answers: what a lookup costs when the scope is full.

    python -m bench.text_cache [--entries 5000]

Fills one owner's scope (one provider, model and parameters) on a fresh SQLite file with
`--entries` cached answers embedded by the default embedder, then times exact hits, semantic
hits (the request reworded) and misses (a new request; the offline `local` prompt writer
answers and the answer is stored) through TextCache.complete.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from promptcanvas.bootstrap import bootstrap
from promptcanvas.domain.ids import new_id
from promptcanvas.ports.providers import Message, TextRequest
from promptcanvas.ports.text_cache import CacheEntry
from promptcanvas.services.text_cache import _digest, _normalise
from promptcanvas.settings import Settings

SUBJECTS = [
    "cat",
    "dog",
    "fox",
    "owl",
    "whale",
    "robot",
    "knight",
    "girl",
    "dragon",
    "lighthouse",
    "castle",
    "bicycle",
]
PLACES = [
    "forest",
    "beach",
    "city",
    "desert",
    "meadow",
    "lake",
    "mountain",
    "street",
    "garden",
    "harbor",
]
STYLES = ["watercolor", "oil painting", "pixel art", "photo", "anime", "ink sketch"]
TIMES = ["at night", "at sunset", "in the rain", "in fog", "at dawn", "in snow", "at noon"]


def _request(text: str) -> TextRequest:
    return TextRequest("prompt-writer", None, (Message("user", text),), seed=1)


def measure(entries: int) -> dict[str, list[float]]:
    """Fill one scope with `entries` answers; seconds per exact hit, semantic hit and miss."""
    texts = [
        f"a {s} in a {p} {t}, {st}"
        for st in STYLES
        for t in TIMES
        for s in SUBJECTS
        for p in PLACES
    ][:entries]
    with tempfile.TemporaryDirectory() as tmp:
        c = bootstrap(Settings(data_dir=Path(tmp), semantic_background=False))
        try:
            owner = c.users.add_user("bench").id
            writer = c.registry.text("local")
            cache = c.text_cache
            scope = cache.scope(writer, _request(texts[0]))
            now = c.clock.now()
            vectors = cache.embedder.embed(texts)
            for text, vector in zip(texts, vectors, strict=True):
                cache.store.put(
                    CacheEntry(
                        id=new_id(),
                        owner_id=owner,
                        scope=scope,
                        key=_digest(scope, _normalise(text)),
                        request=text,
                        answer=f"an image prompt for {text}",
                        created_at=now,
                        expires_at=now + cache.ttl,
                        embedder=cache.embedder.identity,
                        vector=vector,
                    )
                )
            timings: dict[str, list[float]] = {"exact": [], "semantic": [], "model": []}
            colours = ["red", "blue", "green", "golden", "purple", "white", "black", "pink"]
            for i in range(96):
                reworded = texts[i * 37 % len(texts)].replace(" in a ", " inside a ")
                new = f"a {colours[i % 8]} {SUBJECTS[i // 8]} floating in outer space"
                for text, want in ((texts[i * 37 % len(texts)], "exact"), (reworded, "semantic"),
                                   (new, "model")):  # fmt: skip
                    t0 = time.perf_counter()
                    got = cache.complete(owner, writer, _request(text))
                    if got.source == want:
                        timings[want].append(time.perf_counter() - t0)
            print(cache.stats())
        finally:
            c.close()
    return timings


def main() -> None:
    """Exact hit, semantic hit and miss latency, p50 and p95."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=5000)
    args = parser.parse_args()
    timings = measure(args.entries)
    print(f"at most {args.entries} cached answers in one scope")
    for name, values in timings.items():
        values.sort()
        p50 = statistics.median(values) * 1000
        p95 = values[max(0, int(len(values) * 0.95) - 1)] * 1000
        print(f"{name:8s} n={len(values):3d}  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
