"""Engines: SQLite in WAL with IMMEDIATE write transactions, or PostgreSQL via psycopg 3."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITE_OPTION = "promptcanvas_write"


class Database:
    """An engine plus what the unit of work needs to know about it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.kind = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
        # SQLite allows one writer at a time. Queueing writers of this process on a lock
        # keeps them out of SQLite's sleep-and-retry busy handler (which adds up to 100 ms
        # per retry); other processes are still covered by busy_timeout.
        self.write_lock: threading.RLock | None = (
            threading.RLock() if self.kind == "sqlite" else None
        )

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """One short transaction outside a unit of work (committed on a clean exit)."""
        lock = self.write_lock if write else None
        if lock is not None:
            lock.acquire()
        try:
            with self.engine.connect() as conn:
                if write:
                    conn = conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        finally:
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_database(url: str, *, busy_timeout: float = 30.0, echo: bool = False) -> Database:
    """Build the engine for a database URL (sqlite:///path or postgresql://...)."""
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            pool_size=8,
            max_overflow=24,
            pool_timeout=busy_timeout,
        )
        _configure_sqlite(engine, busy_timeout)
    elif url.startswith("postgresql"):
        engine = sa.create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)
    else:
        raise ValueError(
            "database URL must start with sqlite:/// or postgresql:// "
            f"(got scheme {url.split(':', 1)[0]!r})"
        )
    return Database(engine)


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN, so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that later writes can fail at once with "database is
        # locked" (the busy handler is not used for a read->write upgrade); IMMEDIATE avoids it.
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
