"""Search and listing latency through Library.search, side by side with a LIKE '%word%' scan.

    python -m bench.search --database-url sqlite:////tmp/pc-bench.db

Builds the app with bootstrap() and the same settings a deployment would use, searches as the
user who owns the most prompts, and times each case round-robin after a warm-up. Prints a
Markdown table and writes everything to bench/out/<label>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bench.cases import Case, build
from bench.report import machine, table
from promptcanvas.adapters.db.search import PostgresSearch, SqliteSearch
from promptcanvas.adapters.db.tables import prompt_tags, prompts
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.domain.text import normalize_label, query_terms
from promptcanvas.settings import Settings

OUT = Path(__file__).parent / "out"


@dataclass
class Job:
    """One case timed one way ("ours" or "like")."""

    case: Case
    way: str
    run: Callable[[], object]
    reps: int
    samples: list[float] = field(default_factory=list)

    def stats(self) -> dict[str, float | int]:
        """n, p50, p95, mean and max in milliseconds."""
        ordered = sorted(self.samples)
        if not ordered:
            return {"n": 0}

        def rank(p: float) -> float:
            return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

        return {
            "n": len(ordered),
            "p50": rank(0.50),
            "p95": rank(0.95),
            "mean": statistics.fmean(ordered),
            "max": ordered[-1],
        }


def filters(case: Case, owner_id: str) -> list[sa.ColumnElement[bool]]:
    """The case's filters as plain WHERE clauses (for the LIKE baseline and match counts)."""
    r = case.request
    where = [prompts.c.owner_id == owner_id, prompts.c.deleted_at.is_(None)]
    for tag in r.tags:
        tagged = sa.select(prompt_tags.c.prompt_pk).where(
            prompt_tags.c.owner_id == owner_id, prompt_tags.c.tag == normalize_label(tag)
        )
        where.append(prompts.c.pk.in_(tagged))
    if r.category:
        where.append(prompts.c.category == normalize_label(r.category))
    if r.project_id:
        where.append(prompts.c.project_id == r.project_id)
    if r.starred is not None:
        where.append(prompts.c.starred.is_(r.starred))
    if r.since:
        where.append(prompts.c.created_at >= r.since)
    if r.until:
        where.append(prompts.c.created_at < r.until)
    return where


def like_clauses(case: Case, kind: str) -> list[sa.ColumnElement[bool]]:
    """One LIKE per word (ILIKE on PostgreSQL, as SQLite's LIKE ignores ASCII case too)."""
    words = (case.request.q or "").split()
    if kind == "sqlite":
        return [prompts.c.text.like(f"%{w}%") for w in words]
    return [prompts.c.text.ilike(f"%{w}%") for w in words]


class Bench:
    """A built container, the user searched as, and the ways to ask each case."""

    def __init__(self, app: Container) -> None:
        self.app = app
        self.kind = app.db.kind
        with app.db.engine.connect() as conn:
            by_owner = sa.select(prompts.c.owner_id, sa.func.count().label("n")).group_by(
                prompts.c.owner_id
            )
            self.owner_id = conn.execute(by_owner.order_by(sa.text("n DESC"))).first()[0]
            in_projects = (
                sa.select(prompts.c.project_id, sa.func.count().label("n"))
                .where(prompts.c.owner_id == self.owner_id, prompts.c.project_id.is_not(None))
                .group_by(prompts.c.project_id)
                .order_by(sa.text("n DESC"))
            )
            first = conn.execute(in_projects).first()
            self.project_id = first[0] if first else None
            self.total = conn.execute(sa.select(sa.func.count()).select_from(prompts)).scalar_one()

    def ours(self, case: Case) -> Callable[[], object] | None:
        """Library.search for the case (with the cursor of page 1 when it is a page 2)."""
        request = case.request
        if case.page == 2:
            cursor = self.app.library.search(self.owner_id, request).next_cursor
            if cursor is None:
                return None
            request = replace(request, cursor=cursor)
        return lambda: self.app.library.search(self.owner_id, request)

    def like(self, case: Case) -> Callable[[], object]:
        """The newest-first page a LIKE scan gives for the same question."""
        stmt = (
            sa.select(prompts)
            .where(*filters(case, self.owner_id), *like_clauses(case, self.kind))
            .order_by(prompts.c.pk.desc())
            .limit(case.request.limit + 1)
        )

        def run() -> object:
            with self.app.db.engine.connect() as conn:
                return conn.execute(stmt).all()

        return run

    def matches(self, case: Case) -> dict[str, int]:
        """How many prompts match, by our index and by LIKE (not timed)."""
        where = filters(case, self.owner_id)
        found: dict[str, int] = {}
        with self.app.db.engine.connect() as conn:
            if case.request.q:
                index = SqliteSearch() if self.kind == "sqlite" else PostgresSearch()
                terms = query_terms(case.request.q)
                base = sa.select(prompts.c.pk).where(*where)
                stmt, params = index.apply(base, terms, "newest", None)
                # Fetched rather than COUNT(*)ed: without the ORDER BY, SQLite's planner may
                # loop over prompts and run the MATCH once per row.
                found["index"] = len(conn.execute(stmt, params).all())
            clauses = [*where, *like_clauses(case, self.kind)]
            like = sa.select(sa.func.count()).select_from(prompts).where(*clauses)
            found["like" if case.request.q else "all"] = conn.execute(like).scalar_one()
        return found


def explain(bench: Bench, case: Case) -> str:
    """The SQL Library.search sends for the case, and the database's plan for it."""
    run = bench.ours(case)
    if run is None:
        return f"-- {case.name}: no page 2"
    captured: list[tuple[str, Any]] = []

    def grab(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    engine = bench.app.db.engine
    event.listen(engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    statement, parameters = captured[-1]
    with engine.connect() as conn:
        if bench.kind == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plan = [f"{row[0]:>3} {row[1]:>3} {row[3]}" for row in rows]
        else:
            analyze = "EXPLAIN (ANALYZE, BUFFERS) " + statement
            plan = [row[0] for row in conn.exec_driver_sql(analyze, parameters)]
    return "\n".join([f"-- {case.name}", statement, f"-- {parameters}", *plan, ""])


def measure(jobs: list[Job], warmup: int, budget: float) -> list[float]:
    """Warm up, then time the jobs round-robin; returns the load average seen each round."""
    for job in jobs:
        for _ in range(warmup):
            job.run()
    loads = []
    for _ in range(max(j.reps for j in jobs)):
        loads.append(os.getloadavg()[0])
        for job in jobs:
            if len(job.samples) >= job.reps or sum(job.samples) > budget * 1000:
                continue
            started = time.perf_counter()
            job.run()
            job.samples.append((time.perf_counter() - started) * 1000)
    return loads


def time_cases(
    bench: Bench,
    cases: list[Case],
    reps: int,
    like_reps: int,
    warmup: int,
    budget: float,
    count_matches: bool = True,
) -> tuple[list[dict[str, Any]], list[float]]:
    """Time every case (ours, and the LIKE scan where it answers too); results and loads seen.

    Counting the matches (untimed) costs a full LIKE scan per case; repeated passes skip it.
    """
    jobs: list[Job] = []
    for case in cases:
        run = bench.ours(case)
        if run is not None:
            jobs.append(Job(case, "ours", run, reps))
        if case.like:
            jobs.append(Job(case, "like", bench.like(case), like_reps))
    loads = measure(jobs, warmup, budget)
    results = []
    for case in cases:
        timed = {j.way: j.stats() for j in jobs if j.case is case}
        results.append(
            {
                "name": case.name,
                "group": case.group,
                "sort": case.sort,
                "page": case.page,
                "goal_ms": case.goal_ms,
                "matches": bench.matches(case) if count_matches else {},
                "ours": timed.get("ours", {"n": 0}),
                **({"like": timed["like"]} if "like" in timed else {}),
                "samples": {j.way: j.samples for j in jobs if j.case is case},
            }
        )
    return results, loads


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--label", help="name of the JSON file (default: kind and size)")
    parser.add_argument("--reps", type=int, default=60, help="timed runs per case")
    parser.add_argument("--like-reps", type=int, default=15, help="timed runs per LIKE scan")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per case at most")
    parser.add_argument("--only", help="run only cases whose name contains this")
    parser.add_argument("--explain", action="store_true", help="print SQL and plans, no timing")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as data_dir:
        app = bootstrap(Settings(database_url=args.database_url, data_dir=Path(data_dir)))
        try:
            bench = Bench(app)
            cases = [c for c in build(bench.project_id) if not args.only or args.only in c.name]
            if args.explain:
                print("\n".join(explain(bench, case) for case in cases))
                return
            meta = machine(app)  # before timing, so the commit is the one imported
            load_before = os.getloadavg()[0]
            results, loads = time_cases(
                bench, cases, args.reps, args.like_reps, args.warmup, args.budget
            )
            load_after = os.getloadavg()[0]
        finally:
            app.close()
    meta |= {
        "prompts": bench.total,
        "reps": args.reps,
        "like_reps": args.like_reps,
        "warmup": args.warmup,
        "load_1min": {
            "before": load_before,
            "after": load_after,
            "mean_during": statistics.fmean(loads) if loads else None,
            "max_during": max(loads, default=None),
        },
    }
    label = args.label or f"{meta['database']}-{bench.total // 1000}k"
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{label}.json"
    path.write_text(json.dumps({"meta": meta, "results": results}, indent=2, ensure_ascii=False))
    print(table(results))
    print(f"\n{json.dumps(meta, ensure_ascii=False)}\nwritten to {path}")


if __name__ == "__main__":
    main()
