"""Logical export/import of every table, portable between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from promptcanvas.adapters.db.engine import WRITE_OPTION, Database
from promptcanvas.adapters.db.repositories import _PROMPT_COLUMNS, _prompt
from promptcanvas.adapters.db.search import PostgresSearch, SqliteSearch
from promptcanvas.adapters.db.tables import ALL_TABLES, assets, prompts

Row = dict[str, Any]


def _jsonable(row: sa.Row[Any]) -> Row:
    out: Row = {}
    for key, value in row._mapping.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def export_tables(db: Database, sink: Callable[[str, Iterator[Row]], None]) -> None:
    """Hand every table's rows to sink, all read inside one consistent snapshot."""
    with db.engine.connect() as conn:
        if db.kind == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            for table in ALL_TABLES:
                order = list(table.primary_key.columns)
                result = conn.execution_options(yield_per=2000).execute(
                    sa.select(table).order_by(*order)
                )
                sink(table.name, (_jsonable(r) for r in result))


def is_empty(db: Database) -> bool:
    """True when the library holds no users, prompts or assets."""
    with db.engine.connect() as conn:
        return (
            all(
                conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() == 0
                for t in (prompts, assets)
            )
            and conn.execute(sa.text("SELECT count(*) FROM users")).scalar_one() == 0
        )


def import_tables(db: Database, source: Callable[[str], Iterable[Row]]) -> dict[str, int]:
    """Insert every table's rows from source in one transaction, then rebuild the search index."""
    counts: dict[str, int] = {}
    search = SqliteSearch() if db.kind == "sqlite" else PostgresSearch()
    with db.engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            for table in ALL_TABLES:
                counts[table.name] = 0
                batch: list[Row] = []
                for row in source(table.name):
                    batch.append(_typed(table, row))
                    if len(batch) >= 1000:
                        conn.execute(table.insert(), batch)
                        counts[table.name] += len(batch)
                        batch = []
                if batch:
                    conn.execute(table.insert(), batch)
                    counts[table.name] += len(batch)
            for prompt_row in conn.execute(sa.select(*_PROMPT_COLUMNS)):
                search.put(conn, _prompt(prompt_row))
            if db.kind == "postgresql":
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('prompts', 'pk'), "
                        "COALESCE((SELECT max(pk) FROM prompts), 0) + 1, false)"
                    )
                )
    return counts


def _typed(table: sa.Table, row: Row) -> Row:
    out: Row = {}
    for name, value in row.items():
        if name not in table.c:
            raise ValueError(f"backup has unknown column {table.name}.{name}")
        column = table.c[name]
        if (
            value is not None
            and isinstance(column.type, sa.types.TypeDecorator)
            and isinstance(value, str)
        ):
            value = datetime.fromisoformat(value)
        out[name] = value
    return out
