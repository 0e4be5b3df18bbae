"""Metadata reading: parse rate and field accuracy, ours and sd-parsers side by side in one run.

    python -m bench.interop_parse [--rounds 30] [--fixtures ../shared/fixtures/metadata]

Three corpora: the shared sample files (expected.json), a generated one (bench/interop_corpus.py,
built from the tools' documented formats) and five 1024x1024 files (pixel data of real size).
Accuracy = matched expected fields / expected fields, numbers compared as numbers; a file
expected to fail must raise (ours: UnsupportedMedia with the expected words), a file without
metadata must give none. Generators of the AUTOMATIC1111 family (Forge, reForge, SD.Next,
Civitai) count as AUTOMATIC1111. sd-parsers returns settings as strings ('5'); they are
compared as numbers too, so only real misses count against it. Rates are single-threaded,
files already in memory: each file's best time over the rounds (readers interleaved file by
file), summed over the corpus. Prints Markdown and writes bench/out/interop_parse.json.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.interop_corpus import corpus, large
from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.services.metadata.reader import read_metadata

OUT = Path(__file__).parent / "out"
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "metadata"
FAMILY = {"Forge": "AUTOMATIC1111", "reForge": "AUTOMATIC1111", "SD.Next": "AUTOMATIC1111"}
FAMILY["Civitai"] = "AUTOMATIC1111"
Case = tuple[str, bytes, dict[str, Any]]
Reader = Callable[[bytes], dict[str, Any]]
Call = Callable[[bytes], Any]  # what is timed: the library call alone, no mapping of its answer


def shared_cases(folder: Path) -> list[Case]:
    """The shared sample files with their expectations (files next to them resolved)."""
    expected = json.loads((folder / "expected.json").read_text())
    cases = []
    for name, want in sorted(expected.items()):
        if name.startswith("_"):
            continue
        want = {k: v for k, v in want.items() if not k.startswith("_")}
        if "parameters_text_file" in want:
            want["raw:parameters"] = (folder / want.pop("parameters_text_file")).read_text()
        if "prompt_chunk_json_file" in want:
            graph = json.loads((folder / want.pop("prompt_chunk_json_file")).read_text())
            want["raw:prompt"] = graph
        cases.append((name, (folder / name).read_bytes(), want))
    return cases


def ours_call(data: bytes) -> Any:
    """Our reader, timed; an unreadable file gives its error."""
    try:
        return read_metadata(data)
    except UnsupportedMedia as exc:
        return exc


def ours(data: bytes) -> dict[str, Any]:
    """Our reader's answer as a flat dict of fields."""
    record = ours_call(data)
    if isinstance(record, UnsupportedMedia):
        return {"error": record.message}
    out = record.to_dict()
    out["ai_generated"] = (record.provenance or {}).get("ai_generated")
    out["raw:parameters"] = record.raw.get("parameters")
    out["raw:prompt"] = _json(record.raw.get("prompt"))
    return out


def sd_parsers(eager: bool) -> tuple[Reader, Call]:
    """sd-parsers' answer mapped to our field names (its first sampler for single values),
    and the bare call that is timed."""
    from sd_parsers import ParserManager
    from sd_parsers.extractors import Eagerness, _jpeg_usercomment, _png_stenographic_alpha

    manager = ParserManager(eagerness=Eagerness.EAGER if eager else Eagerness.DEFAULT)

    def call(data: bytes) -> Any:
        # sd-parsers caches the last image's EXIF comment and stealth payload under id(image);
        # ids are reused once an image is freed, so a loop over files can get the previous
        # file's text. Reset the caches to measure what it does on each file alone.
        for module in (_jpeg_usercomment, _png_stenographic_alpha):
            module._image_id = None  # type: ignore[attr-defined]
        try:
            return manager.parse(io.BytesIO(data))
        except Exception as exc:  # it raises PIL's errors on broken files
            return exc

    def read(data: bytes) -> dict[str, Any]:
        info = call(data)
        if isinstance(info, Exception):
            return {"error": f"{type(info).__name__}: {info}"}
        if info is None:
            return {"generator": None}
        out: dict[str, Any] = {"generator": info.generator.value}
        samplers = [_sd_sampler(s) for s in info.samplers]
        if samplers:
            out.update({k: v for k, v in samplers[0].items() if v is not None})
        out["samplers"] = samplers
        prompts, negatives = list(info.prompts), list(info.negative_prompts)
        out.setdefault("prompt", prompts[0].value if prompts else None)
        out.setdefault("negative_prompt", negatives[0].value if negatives else None)
        meta = info.metadata
        size = str(meta.get("Size", "")).split("x")
        found = {k: meta.get(k) for k in ("steps", "width", "height")}
        found["denoise"] = meta.get("Denoising strength")
        if len(size) == 2:
            found["width"], found["height"] = found["width"] or size[0], found["height"] or size[1]
        for key, value in found.items():
            if out.get(key) is None:
                out[key] = value
        raw = getattr(info, "raw_parameters", {}) or {}
        out["raw:parameters"] = raw.get("parameters")
        out["raw:prompt"] = (
            _json(raw.get("prompt")) if isinstance(raw.get("prompt"), str) else raw.get("prompt")
        )
        return out

    return read, call


def _sd_sampler(sampler: Any) -> dict[str, Any]:
    params = dict(sampler.parameters)
    prompts = list(getattr(sampler, "prompts", []) or [])
    negatives = list(getattr(sampler, "negative_prompts", []) or [])
    model = sampler.model
    return {
        "sampler": sampler.name,
        "seed": params.get("seed"),
        "steps": params.get("steps"),
        "cfg_scale": params.get("cfg_scale"),
        "scheduler": params.get("scheduler"),
        "denoise": params.get("denoise"),
        "model": model.name if model else None,
        "model_hash": model.hash if model else None,
        "prompt": prompts[0].value if prompts else None,
        "negative_prompt": negatives[0].value if negatives else None,
    }


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value


def same(key: str, actual: Any, expected: Any) -> bool:
    """One expected field matched (numbers as numbers; generator families merged)."""
    if key == "generator":
        return FAMILY.get(actual, actual) == FAMILY.get(expected, expected)
    if key == "samplers":
        return all(
            any(all(same(k, p.get(k), v) for k, v in want.items()) for p in actual or [])
            for want in expected
        )
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        actual = _number(actual)
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return False
        # 0.8700000000000001 for 0.87 is float noise, not a wrong value.
        return actual == expected or math.isclose(actual, expected, rel_tol=1e-9)
    return bool(actual == expected)


def score(read: Reader, case: Case) -> tuple[int, int, list[str]]:
    """(matched, expected, misses) for one file."""
    name, data, want = case
    got = read(data)
    if "error" in want:
        ok = "error" in got and (read is not ours or want["error"] in got["error"])
        return int(ok), 1, [] if ok else [f"{name}: no error reported"]
    if "error" in got:
        return 0, len(want), [f"{name}: error {got['error']}"]
    misses = [
        f"{name}: {k} = {got.get(k)!r}, expected {v!r}"
        for k, v in want.items()
        if not same(k, got.get(k), v)
    ]
    return len(want) - len(misses), len(want), misses


def timings(readers: dict[str, Call], cases: list[Case], rounds: int) -> dict[str, Any]:
    """Per reader: files/s over the corpus and µs per file, best of `rounds` interleaved rounds.

    Readers take turns file by file, so a busy spell of the (shared) machine hits all alike,
    and the order of turns rotates each round.
    """
    best: dict[str, list[float]] = {name: [math.inf] * len(cases) for name in readers}
    order = list(readers.items())
    for round_ in range(rounds + 1):  # the first round warms up (imports, caches)
        # Who goes first after another reader's heavy decode changes every round.
        turn = order[round_ % len(order) :] + order[: round_ % len(order)]
        for i, case in enumerate(cases):
            for name, read in turn:
                start = time.perf_counter()
                read(case[1])
                best[name][i] = min(best[name][i], time.perf_counter() - start)
    return {
        name: {
            "files_per_s": len(cases) / sum(times),
            "us_per_file": {
                case[0]: round(t * 1e6, 1) for case, t in zip(cases, times, strict=True)
            },
        }
        for name, times in best.items()
    }


def evaluate(rounds: int, fixtures: Path = FIXTURES) -> dict[str, Any]:
    """Every reader on every corpus: accuracy and rate per "corpus / reader" (prints Markdown)."""
    corpora = {
        "shared fixtures": shared_cases(fixtures) if fixtures.exists() else [],
        "generated corpus": corpus(),
        "1024x1024 files": large(),
    }
    sd_default, sd_eager = sd_parsers(eager=False), sd_parsers(eager=True)
    readers: dict[str, tuple[Reader, Call]] = {
        "ours": (ours, ours_call),
        "sd-parsers 0.6 (default)": sd_default,
        "sd-parsers 0.6 (eager: stealth)": sd_eager,
    }
    results: dict[str, Any] = {}
    print("| corpus | files | reader | accuracy | fields matched | files/s |")
    print("|---|---|---|---|---|---|")
    for corpus_name, cases in corpora.items():
        if not cases:
            continue
        timed = timings({name: pair[1] for name, pair in readers.items()}, cases, rounds)
        for reader_name, (read, _call) in readers.items():
            matched = total = 0
            misses: list[str] = []
            for case in cases:
                m, t, miss = score(read, case)
                matched, total = matched + m, total + t
                misses += miss
            results[f"{corpus_name} / {reader_name}"] = {
                "corpus": corpus_name,
                "reader": reader_name,
                "accuracy": matched / total,
                "matched": matched,
                "fields": total,
                "files": len(cases),
                **timed[reader_name],
                "misses": misses,
            }
            print(
                f"| {corpus_name} | {len(cases)} | {reader_name} | {matched / total:.3f} "
                f"| {matched} / {total} | {timed[reader_name]['files_per_s']:,.0f} |"
            )
    return results


def main() -> None:
    """Run every reader on both corpora; print Markdown, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    args = parser.parse_args()
    print(f"load avg before: {os.getloadavg()[0]:.2f}; python {platform.python_version()}\n")
    results = evaluate(args.rounds, args.fixtures)
    print(f"\nload avg after: {os.getloadavg()[0]:.2f}")
    for key, result in results.items():
        if result["misses"]:
            print(f"\n{key}: {len(result['misses'])} misses")
            for miss in result["misses"]:
                print(f"  - {miss[:300]}")
    OUT.mkdir(exist_ok=True)
    (OUT / "interop_parse.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
