"""Apply Alembic migrations programmatically (on start and by `promptcanvas db upgrade`)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from promptcanvas.adapters.db.engine import WRITE_OPTION, Database

_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_ID = 726_112_001


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to date; safe to call from several processes at once."""
    config = _config()
    with db.engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        if db.kind == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            conn.commit()
        try:
            with conn.begin():
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
        finally:
            if db.kind == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
                conn.commit()
