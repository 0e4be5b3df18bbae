"""What the figures were measured on, and the figures as a Markdown table."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promptcanvas.bootstrap import Container


def machine(app: Container) -> dict[str, Any]:
    """What the figures were measured on."""
    with open("/proc/meminfo") as meminfo:
        ram_kb = int(meminfo.readline().split()[1])
    info: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "ram_gib": round(ram_kb / 2**20, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "database": app.db.kind,
    }
    repo = Path(__file__).parent.parent
    git = ["git", "-C", str(repo)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    info["commit"] = head.stdout.strip()
    # The code measured is what was imported at start; say if src/ differed from the commit.
    status = [*git, "status", "--porcelain", "--", "src"]
    changed = subprocess.run(status, capture_output=True, text=True).stdout.split("\n")
    info["src_changes"] = [line for line in changed if line]
    with app.db.engine.connect() as conn:
        if app.db.kind == "postgresql":
            info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar_one()
            size = "SELECT pg_database_size(current_database())"
            info["db_bytes"] = conn.exec_driver_sql(size).scalar_one()
        else:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            info["db_bytes"] = pages * conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return info


def table(results: list[dict[str, Any]]) -> str:
    """The figures as Markdown."""
    head = (
        "| group | case | matches | p50 ms | p95 ms | goal p95 | met | LIKE p50 | LIKE p95 "
        "| LIKE/ours p50 | LIKE/ours p95 |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in results:
        ours, like = r["ours"], r.get("like")
        matches = r["matches"].get("index", r["matches"].get("all", ""))
        cells = [r["group"], r["name"], f"{matches:,}" if matches != "" else ""]
        if not ours.get("n"):
            lines.append("| " + " | ".join([*cells, "n/a", "", "", "", "", "", "", ""]) + " |")
            continue
        met = "yes" if ours["p95"] <= r["goal_ms"] else "**no**"
        cells += [f"{ours['p50']:.1f}", f"{ours['p95']:.1f}", f"{r['goal_ms']:.0f}", met]
        if like and like.get("n"):
            cells += [f"{like['p50']:.1f}", f"{like['p95']:.1f}"]
            cells += [f"{like['p50'] / ours['p50']:.1f}×", f"{like['p95'] / ours['p95']:.1f}×"]
        else:
            cells += ["", "", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def side_by_side(runs: list[tuple[str, int, list[dict[str, Any]]]]) -> str:
    """Runs in one Markdown table: p50/p95 (ms), the LIKE scan's p50 and the ratio LIKE/ours.

    The match count is shown once per library size (runs on the same data match alike).
    """
    head = ["case", "goal p95"]
    for i, (label, size, _) in enumerate(runs):
        if i == 0 or size != runs[i - 1][1]:
            head.append(f"matches ({size // 1000}k)")
        head += [f"{label} p50 / p95", "LIKE p50", "LIKE/ours"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by_name = [{r["name"]: r for r in results} for _, _, results in runs]
    for first in runs[0][2]:
        cells = [f"{first['group']}: {first['name']}", f"{first['goal_ms']:.0f}"]
        for i, (_, size, _) in enumerate(runs):
            shown = i == 0 or size != runs[i - 1][1]
            r = by_name[i].get(first["name"])
            if r is None:
                cells += ["", "", "", ""] if shown else ["", "", ""]
                continue
            ours, like = r["ours"], r.get("like") or {}
            if shown:
                cells.append(f"{r['matches'].get('index', r['matches'].get('all', 0)):,}")
            miss = "" if ours["p95"] <= r["goal_ms"] else " ✗"
            cells.append(f"{ours['p50']:.1f} / {ours['p95']:.1f}{miss}")
            if like.get("n"):
                cells += [f"{like['p50']:.1f}", f"{like['p50'] / ours['p50']:.1f}×"]
            else:
                cells += ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print runs written by bench.search side by side: python -m bench.report A.json B.json."""
    paths = argv if argv is not None else sys.argv[1:]
    runs = []
    for path in paths:
        data = json.loads(Path(path).read_text())
        meta = data["meta"]
        label = f"{meta['database']} {meta['prompts'] // 1000}k @{meta['commit']}"
        runs.append((label, meta["prompts"], data["results"]))
        load = meta["load_1min"]
        print(
            f"- {label}: commit {meta['commit']}, {meta['date']}, "
            f"load avg (1 min) {load['before']:.2f} before, {load['mean_during']:.2f} mean during, "
            f"{load['max_during']:.2f} max; {meta['reps']} runs each, LIKE {meta['like_reps']}"
        )
    print()
    print(side_by_side(runs))


if __name__ == "__main__":
    main()
