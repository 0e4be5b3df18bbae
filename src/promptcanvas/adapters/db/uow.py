"""The SQLAlchemy unit of work: one connection, one transaction."""

from __future__ import annotations

from typing import Self

import sqlalchemy as sa

from promptcanvas.adapters.db.engine import WRITE_OPTION, Database
from promptcanvas.adapters.db.jobs import SqlJobRepository
from promptcanvas.adapters.db.portfolios import SqlPortfolioRepository
from promptcanvas.adapters.db.repositories import (
    SqlAssetRepository,
    SqlProjectRepository,
    SqlPromptRepository,
    SqlUserRepository,
)
from promptcanvas.adapters.db.search import PostgresSearch, SearchIndex, SqliteSearch
from promptcanvas.ports.repositories import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """`with uow: ...; uow.commit()`; anything else rolls back."""

    def __init__(self, db: Database, *, write: bool = True) -> None:
        self.db = db
        self.write = write
        self.search: SearchIndex = SqliteSearch() if db.kind == "sqlite" else PostgresSearch()
        self._conn: sa.Connection | None = None
        self._locked = False

    @property
    def conn(self) -> sa.Connection:
        """The open connection (only inside `with`)."""
        assert self._conn is not None, "unit of work used outside `with`"
        return self._conn

    def __enter__(self) -> Self:
        """Begin: IMMEDIATE on SQLite for writers, so they queue instead of failing."""
        if self.write and self.db.write_lock is not None:
            self.db.write_lock.acquire()
            self._locked = True
        try:
            conn = self.db.engine.connect()
            if self.write:
                conn = conn.execution_options(**{WRITE_OPTION: True})
            conn.begin()
        except BaseException:
            self._release()
            raise
        self._conn = conn
        self.prompts = SqlPromptRepository(conn, self.search)
        self.assets = SqlAssetRepository(conn)
        self.projects = SqlProjectRepository(conn)
        self.users = SqlUserRepository(conn)
        self.jobs = SqlJobRepository(conn)
        self.portfolios = SqlPortfolioRepository(conn)
        return self

    def commit(self) -> None:
        """Make the changes durable."""
        self.conn.commit()

    def __exit__(self, *exc: object) -> None:
        """Roll back anything uncommitted and give the connection back."""
        try:
            if self._conn is not None:
                if self._conn.in_transaction():
                    self._conn.rollback()
                self._conn.close()
        finally:
            self._conn = None
            self._release()

    def _release(self) -> None:
        if self._locked and self.db.write_lock is not None:
            self._locked = False
            self.db.write_lock.release()
