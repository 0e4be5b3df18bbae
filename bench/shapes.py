"""Times the query shapes that miss their goal against rewritten shapes, on the same database.

    python -m bench.shapes --database-url sqlite:////tmp/pc-bench.db

Evidence for the diagnoses in BENCHMARKS.md. In each group the first shape is the reference
(the app's shape at 8d0b05e, or today's where it has not changed); every other shape is timed the
same way and its page compared with the reference's ("same"/"DIFF"; the windowed relevance
differs by design once a word has more than 2,000 matches).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.cases import SINCE, UNTIL
from promptcanvas.adapters.db.engine import create_database
from promptcanvas.adapters.db.tables import UTCDateTime
from promptcanvas.domain.text import query_terms

COLUMNS = (
    "p.pk, p.id, p.owner_id, p.text, p.negative_text, p.category, p.tags, p.language, "
    "p.starred, p.rating, p.author, p.project_id, p.parent_id, p.note, p.output_count, "
    "p.created_at, p.updated_at, p.deleted_at"
)
LIVE = "p.owner_id = :o AND p.deleted_at IS NULL"
IN_RANGE = "p.created_at >= :since AND p.created_at < :until"
TAGGED_IN = "p.pk IN (SELECT prompt_pk FROM prompt_tags WHERE owner_id = :o AND tag = :tag)"
TAGGED_EXISTS = "EXISTS (SELECT 1 FROM prompt_tags t WHERE t.prompt_pk = p.pk AND t.tag = :tag)"
# Exact bounds, with no assumption that pk follows created_at: the smallest and largest pk
# among the owner's prompts in the range, read from ix_prompts_owner_created alone.
PK_BOUNDS = (
    "(SELECT min(pk) FROM prompts WHERE owner_id = :o AND created_at >= :since "
    "AND created_at < :until) AND (SELECT max(pk) FROM prompts WHERE owner_id = :o "
    "AND created_at >= :since AND created_at < :until)"
)
FTS = f"SELECT {COLUMNS} FROM prompt_fts f JOIN prompts p ON p.pk = f.rowid WHERE {LIVE}"
PLAIN = f"SELECT {COLUMNS} FROM prompts p WHERE {LIVE}"
TSQ = "p.search_vector @@ CAST(:q AS tsquery)"
NEWEST = "ORDER BY p.pk DESC LIMIT 51"
SCORED_FTS = FTS.replace(" FROM", ", f.rank AS score FROM", 1)
RANK_PG = "ts_rank(p.search_vector, CAST(:q AS tsquery))"
SCORED_PG = PLAIN.replace(" FROM", f", {RANK_PG} AS score FROM", 1)

# group -> [(shape, SQLite SQL, PostgreSQL SQL)]; the first shape is what the app sends.
GROUPS: dict[str, list[tuple[str, str | None, str | None]]] = {
    "relevance": [
        (
            "rank every match (the app at 8d0b05e)",
            f"{FTS} AND prompt_fts MATCH :q ORDER BY f.rank, f.rowid DESC LIMIT 51",
            f"{PLAIN} AND {TSQ} ORDER BY {RANK_PG} DESC, p.pk DESC LIMIT 51",
        ),
        (
            "FTS alone, rank every match, no join (lower bound)",
            "SELECT rowid FROM prompt_fts WHERE prompt_fts MATCH :q ORDER BY rank LIMIT 51",
            None,
        ),
        (
            "rank the newest 2,000 matches (the app since 14bbce8)",
            f"SELECT * FROM ({SCORED_FTS} AND prompt_fts MATCH :q "
            "ORDER BY f.rowid DESC LIMIT 2000) ORDER BY score, pk DESC LIMIT 51",
            f"SELECT * FROM ({SCORED_PG} AND {TSQ} ORDER BY p.pk DESC LIMIT 2000) AS newest "
            "ORDER BY score DESC, pk DESC LIMIT 51",
        ),
    ],
    "newest, several words": [
        (
            "as the app asks: every word a prefix",
            f"{FTS} AND prompt_fts MATCH :q ORDER BY f.rowid DESC LIMIT 51",
            f"{PLAIN} AND {TSQ} {NEWEST}",
        ),
        (
            "only the last word a prefix",
            f"{FTS} AND prompt_fts MATCH :q_last ORDER BY f.rowid DESC LIMIT 51",
            f"{PLAIN} AND p.search_vector @@ CAST(:q_last AS tsquery) {NEWEST}",
        ),
        (
            "no word a prefix (exact tokens)",
            f"{FTS} AND prompt_fts MATCH :q_exact ORDER BY f.rowid DESC LIMIT 51",
            f"{PLAIN} AND p.search_vector @@ CAST(:q_exact AS tsquery) {NEWEST}",
        ),
    ],
    "keyword + tag, newest": [
        (
            "pk IN (tag subquery) (the app at 8d0b05e)",
            f"{FTS} AND {TAGGED_IN} AND prompt_fts MATCH :q ORDER BY f.rowid DESC LIMIT 51",
            f"{PLAIN} AND {TAGGED_IN} AND {TSQ} {NEWEST}",
        ),
        (
            "EXISTS probe of prompt_tags' primary key (the app since 14bbce8)",
            f"{FTS} AND {TAGGED_EXISTS} AND prompt_fts MATCH :q ORDER BY f.rowid DESC LIMIT 51",
            f"{PLAIN} AND {TAGGED_EXISTS} AND {TSQ} {NEWEST}",
        ),
    ],
    "keyword + date range, newest": [
        (
            "as the app asks",
            f"{FTS} AND {IN_RANGE} AND prompt_fts MATCH :q ORDER BY f.rowid DESC LIMIT 51",
            f"{PLAIN} AND {IN_RANGE} AND {TSQ} {NEWEST}",
        ),
        (
            "plus rowid BETWEEN pk bounds of the range",
            f"{FTS} AND {IN_RANGE} AND f.rowid BETWEEN {PK_BOUNDS} AND prompt_fts MATCH :q "
            "ORDER BY f.rowid DESC LIMIT 51",
            f"{PLAIN} AND {IN_RANGE} AND p.pk BETWEEN {PK_BOUNDS} AND {TSQ} {NEWEST}",
        ),
    ],
    "tag listing": [
        (
            "pk IN (tag subquery) (the app at 8d0b05e)",
            f"{PLAIN} AND {TAGGED_IN} {NEWEST}",
            f"{PLAIN} AND {TAGGED_IN} {NEWEST}",
        ),
        (
            "join walking ix_prompt_tags_owner_tag (the app since 14bbce8)",
            f"SELECT {COLUMNS} FROM prompt_tags t JOIN prompts p ON p.pk = t.prompt_pk "
            f"WHERE t.owner_id = :o AND t.tag = :tag AND {LIVE} "
            "ORDER BY t.prompt_pk DESC LIMIT 51",
            f"SELECT {COLUMNS} FROM prompt_tags t JOIN prompts p ON p.pk = t.prompt_pk "
            f"WHERE t.owner_id = :o AND t.tag = :tag AND {LIVE} "
            "ORDER BY t.prompt_pk DESC LIMIT 51",
        ),
    ],
    "date range listing": [
        ("as the app asks: ORDER BY pk", f"{PLAIN} AND {IN_RANGE} {NEWEST}", None),
        (
            "ORDER BY created_at, pk (walks ix_prompts_owner_created, no sort)",
            f"{PLAIN} AND {IN_RANGE} ORDER BY p.created_at DESC, p.pk DESC LIMIT 51",
            None,
        ),
        (
            "plus pk BETWEEN pk bounds of the range",
            f"{PLAIN} AND {IN_RANGE} AND p.pk BETWEEN {PK_BOUNDS} {NEWEST}",
            None,
        ),
    ],
}
# Plain SQL that reads the same on both databases.
for _group in ("tag listing", "date range listing"):
    GROUPS[_group] = [(n, s, s) for n, s, _ in GROUPS[_group]]

RUNS: dict[str, list[dict[str, str]]] = {
    "relevance": [{"q": w} for w in ("강아지", "영상", "puppy", "cinematic", "노을", "산타마을")],
    "newest, several words": [
        {"q": "old fisherman portrait", "tag": ""},
        {"q": "golden hour", "tag": ""},
        {"q": "puppy", "tag": ""},
    ],
    "keyword + tag, newest": [
        {"q": "강아지", "tag": "portrait"},
        {"q": "산타마을", "tag": "크리스마스"},
    ],
    "keyword + date range, newest": [{"q": "puppy"}, {"q": "강아지"}],
    "tag listing": [{"tag": "portrait"}, {"tag": "크리스마스"}],
    "date range listing": [{}],
}


def match(words: str, kind: str, *, last_only: bool = False, exact: bool = False) -> str:
    """MATCH / tsquery text as the app builds it, or with fewer (or no) prefix words."""
    terms = query_terms(words)
    parts = []
    for i, term in enumerate(terms):
        prefix = term.prefix and not exact and (not last_only or i == len(terms) - 1)
        if kind == "sqlite":
            parts.append('"' + " ".join(term.tokens) + '"' + ("*" if prefix else ""))
        elif len(term.tokens) == 1:
            parts.append(f"'{term.tokens[0]}'" + (":*" if prefix else ""))
        else:
            parts.append("(" + " <-> ".join(f"'{t}'" for t in term.tokens) + ")")
    return (" AND " if kind == "sqlite" else " & ").join(parts)


def timed(conn: sa.Connection, sql: str, params: dict[str, Any], reps: int) -> dict[str, Any]:
    """p50/p95 in ms after two warm-up runs, and the pks of the page."""
    stmt = sa.text(sql)
    if ":since" in sql:
        stmt = stmt.bindparams(
            sa.bindparam("since", type_=UTCDateTime), sa.bindparam("until", type_=UTCDateTime)
        )
    pks = [r[0] for r in conn.execute(stmt, params)]
    conn.execute(stmt, params)
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        conn.execute(stmt, params).all()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[max(0, math.ceil(0.95 * len(samples)) - 1)]
    return {"p50": samples[len(samples) // 2], "p95": p95, "pks": pks}


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--label", help="name of the JSON file (default: shapes-<kind>)")
    args = parser.parse_args(argv)
    db = create_database(args.database_url)
    if db.kind == "postgresql":
        # psycopg prepares a statement after 5 runs and PostgreSQL may then switch to a generic
        # plan, which for a tsquery parameter can be 50x slower (0.8 -> 40 ms here); compare
        # the plans PostgreSQL picks for the actual values.
        db.engine.dispose()
        db.engine = sa.create_engine(db.engine.url, connect_args={"prepare_threshold": None})
    report: list[dict[str, Any]] = []
    with db.engine.connect() as conn:
        owner = conn.execute(
            sa.text("SELECT owner_id FROM prompts GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
        for group, shapes in GROUPS.items():
            print(f"\n{group}\n   p50 ms   p95 ms")
            for run in RUNS[group]:
                params: dict[str, Any] = {"o": owner, "since": SINCE, "until": UNTIL, **run}
                if "q" in run:
                    params["q"] = match(run["q"], db.kind)
                    params["q_last"] = match(run["q"], db.kind, last_only=True)
                    params["q_exact"] = match(run["q"], db.kind, exact=True)
                first: list[int] | None = None
                for name, sqlite_sql, pg_sql in shapes:
                    sql = sqlite_sql if db.kind == "sqlite" else pg_sql
                    if sql is None:
                        continue
                    result = timed(conn, sql, params, args.reps)
                    first = result["pks"] if first is None else first
                    same = "same" if result["pks"] == first else "DIFF"
                    label = ", ".join(f"{k}={v}" for k, v in run.items() if v)
                    print(f"{result['p50']:9.1f} {result['p95']:8.1f}  {same}  {name} [{label}]")
                    report.append({"group": group, "shape": name, **run, **result, "same": same})
                conn.rollback()
    db.dispose()
    out = Path(__file__).parent / "out" / f"{args.label or 'shapes-' + db.kind}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
