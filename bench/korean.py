"""Korean to English: does a Korean request find the English prompt it means, in hybrid mode?

    python -m bench.korean            # recall@5 for keyword, semantic and hybrid, plus timing

bench/data/korean_eval.jsonl holds 60 Korean requests, each with the English prompt it should
find and two hard English distractors (same subject or same setting, something else changed).
The library holds all targets and distractors (180 prompts) plus, as more distractors, every
English prompt of bench/data/paraphrases.jsonl (the semantic bench's set). It is built through
bootstrap() on a fresh SQLite file, the embed jobs run, and each request goes through
SemanticSearch.search, the code path of GET /api/v1/prompts?mode=... and of
POST /api/v1/recommendations. The offline translator's output for every request is written
next to the result, so misses can be read.
Results go to bench/out/korean.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from promptcanvas.bootstrap import bootstrap
from promptcanvas.services.translate import translate, warm_up
from promptcanvas.settings import Settings

DATA = Path(__file__).parent / "data" / "korean_eval.jsonl"
EXTRA = Path(__file__).parent / "data" / "paraphrases.jsonl"
OUT = Path(__file__).parent / "out"
MODES = ("keyword", "semantic", "hybrid")


def main() -> dict[str, Any]:
    """recall@5 per mode over the Korean set; translation time per request."""
    items = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    started = time.perf_counter()
    warm_up()
    load_seconds = time.perf_counter() - started
    timings, translations = [], {}
    for item in items:
        t0 = time.perf_counter()
        result = translate(item["ko"])
        timings.append(time.perf_counter() - t0)
        translations[item["id"]] = {"en": result.english, "unknown": list(result.unknown)}
    extra = []
    if EXTRA.exists():
        for line in EXTRA.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                extra += [row["prompt"], *row["distractors"]]
    out: dict[str, Any] = {
        "items": len(items),
        "library": 3 * len(items) + len(extra),
        "translator_load_seconds": round(load_seconds, 2),
        "translate_ms_p50": round(statistics.median(timings) * 1000, 2),
        "translate_ms_max": round(max(timings) * 1000, 2),
        "fully_understood": sum(not t["unknown"] for t in translations.values()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        c = bootstrap(Settings(data_dir=Path(tmp), semantic_background=False))
        try:
            owner = c.users.add_user("bench").id
            target = {}
            for item in items:
                target[item["id"]] = c.library.create_prompt(owner, text=item["prompt"]).id
                for text in item["distractors"]:
                    c.library.create_prompt(owner, text=text)
            for text in extra:
                c.library.create_prompt(owner, text=text)
            c.indexer.tick()
            while c.runner.run_next():
                pass
            c.indexer.tick()
            for mode in MODES:
                hits, firsts, misses = 0, 0, []
                for item in items:
                    found = [pid for pid, _ in c.semantic.search(owner, item["ko"], k=5, mode=mode)]
                    if target[item["id"]] in found:
                        hits += 1
                        firsts += found[0] == target[item["id"]]
                    else:
                        misses.append(item["id"])
                n = len(items)
                out[mode] = {
                    "recall@5": round(hits / n, 3),
                    "recall@1": round(firsts / n, 3),
                    "misses": misses,
                }
                print(
                    f"ko/{mode:8s} recall@5 = {hits / n:.3f}  recall@1 = {firsts / n:.3f}  "
                    f"misses={misses}"
                )
        finally:
            c.close()
    out["translations"] = translations
    print(f"library: {out['library']} English prompts")
    print(
        f"translator: load {out['translator_load_seconds']} s, "
        f"{out['translate_ms_p50']} ms p50 per request, "
        f"{out['fully_understood']}/{len(items)} requests with every word known"
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "korean.json").write_text(json.dumps(out, ensure_ascii=False, indent=2))
    return out


if __name__ == "__main__":
    main()
    sys.exit(0)
