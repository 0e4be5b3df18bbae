"""The benchmark runner (`python -m bench`) still runs and writes its report.

Runs a few benchmarks at the tiny "smoke" sizes; the figures themselves are never judged
here (benchmarks do not gate CI), only that the report has every column and figure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.markdown import COLUMNS
from bench.run import Benchmark, Context, Figure, Outcome, run_one

REPO = Path(__file__).resolve().parents[2]


def summary_rows(text: str) -> list[list[str]]:
    """The summary table's rows (header first), split into cells."""
    section = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_smoke_run_writes_a_row_per_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    done = run_bench("--smoke", "--only", "render,interop,batch", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    assert "Mode: **smoke**" in text
    assert "bench/FINDINGS.md" in text
    rows = summary_rows(text)
    assert rows[0] == COLUMNS
    figures = rows[2:]
    assert all(len(r) == len(COLUMNS) for r in figures), figures
    names = [r[1] for r in figures]
    # render: one figure per sketch version; interop: accuracy and rate per corpus; batch: 3.
    assert sum("1024x1024 version" in n for n in names) == 2
    assert sum("field accuracy" in n for n in names) >= 2
    assert sum("parse rate" in n for n in names) >= 2
    assert sum("prompts)" in n and "batch" in n.lower() for n in names) >= 1
    for r in figures:
        assert r[-1] in ("yes", "**no**", "—"), r
        assert r[3] != "" and r[4] != "" and r[5] != "", r  # min / median / max filled
    accuracy = next(r for r in figures if "field accuracy" in r[1])
    assert "sd-parsers" in accuracy[6]  # the peer measured in the same run
    assert accuracy[7].endswith("×")
    for area in ("## Issue 3: Local render", "## Issue 5: Metadata reading"):
        assert area in text


def test_unknown_benchmark_is_refused() -> None:
    done = run_bench("--smoke", "--only", "no-such-bench", "--out", "/dev/null")
    assert done.returncode == 2
    assert "unknown benchmark no-such-bench" in done.stderr


def test_a_failing_benchmark_becomes_an_error_row() -> None:
    def broken(ctx: Context) -> Outcome:
        raise RuntimeError("the provider fell over")

    ctx = Context("smoke", {}, 1, None, None)
    outcome = run_one(Benchmark("broken", "Broken", 9, broken), ctx)
    assert outcome.status == "error: RuntimeError: the provider fell over"
    assert outcome.figures == []
    assert "Traceback" in outcome.details[0]


def test_figure_ratio_and_goal_follow_the_direction() -> None:
    latency = Figure("p95", "ms", [10.0, 12.0, 40.0], goal=30, baseline=[60.0])
    assert latency.median == 12.0 and latency.met is True
    assert latency.ratio == 5.0  # the LIKE scan takes five times as long
    rate = Figure("files/s", "files/s", [300.0, 500.0, 400.0], 1000, ">=", baseline=[440.0])
    assert rate.met is False
    assert rate.ratio == pytest.approx(400 / 440)
    assert Figure("no goal", "ms", [1.0]).met is None
