"""Generated prompt libraries, cached between runs (a 1M SQLite library takes ~7.5 minutes).

SQLite libraries are files under bench/.cache/; PostgreSQL ones are databases of their own on
the benchmark server (never the tests' `test` database). Both are keyed by the generator's
version: a hash of the generator's source, the vocabularies, the seed and the schema's head
revision, so a change to any of them builds a fresh library and drops the stale one.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import sqlalchemy as sa

from bench import generate
from bench.run import CACHE
from promptcanvas.adapters.db.engine import create_database
from promptcanvas.adapters.db.migrate import head_revision

SEED = 20261121
BATCH = 20_000
_SOURCES = ("generate.py", "compose.py", "vocab.py")


def generator_key() -> str:
    """Ten hex digits naming the generator's version (sources, seed, schema revision)."""
    digest = hashlib.sha256(f"{SEED}:{head_revision()}".encode())
    for name in _SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:10]


def sqlite_library(prompts: int) -> tuple[str, float | None]:
    """A cached SQLite library of `prompts` prompts: its URL and build time (None: cached)."""
    key = generator_key()
    path = CACHE / f"library-{prompts}-{key}.db"
    if path.exists():
        return f"sqlite:///{path}", None
    CACHE.mkdir(exist_ok=True)
    for stale in CACHE.glob(f"library-{prompts}-*.db*"):
        stale.unlink()  # an older generator's library, or an interrupted build
    building = CACHE / f"library-{prompts}-{key}.building.db"
    started = time.perf_counter()
    db = create_database(f"sqlite:///{building}")
    try:
        generate.load(db, prompts, SEED, BATCH)
    finally:
        db.dispose()
    building.rename(path)  # complete: the WAL was checkpointed and closed with the engine
    return f"sqlite:///{path}", time.perf_counter() - started


def postgres_library(admin_url: str, prompts: int) -> tuple[str, float | None]:
    """A database `pc_bench_<prompts>_<key>` on the server of admin_url, built if missing."""
    key = generator_key()
    name = f"pc_bench_{prompts}_{key}"
    url = sa.engine.make_url(admin_url).set(drivername="postgresql+psycopg")
    target = url.set(database=name).render_as_string(hide_password=False)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(sa.text("SELECT datname FROM pg_database")).scalars()
            # Matched in Python: in LIKE, "_" is a wildcard (pc_bench_100000_% would match 1M).
            prefix = f"pc_bench_{prompts}_"
            existing = {d for d in found if d.startswith(prefix) and "_" not in d[len(prefix) :]}
        if name in existing and _complete(target, prompts):
            return target, None
        with admin.connect() as conn:
            for stale in existing:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    started = time.perf_counter()
    db = create_database(target)
    try:
        generate.load(db, prompts, SEED, BATCH)
    finally:
        db.dispose()
    return target, time.perf_counter() - started


def _complete(url: str, prompts: int) -> bool:
    """Whether the database holds the whole library (an interrupted build holds fewer)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM prompts")).scalar_one()
            # finish() runs VACUUM (ANALYZE) last: a library without it was interrupted.
            analysed = conn.execute(
                sa.text("SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL "
                        "FROM pg_stat_user_tables WHERE relname = 'prompts'")
            ).scalar()  # fmt: skip
        return bool(count == prompts and analysed)
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()
