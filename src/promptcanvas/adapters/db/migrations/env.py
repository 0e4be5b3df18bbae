"""Alembic environment: run with a connection passed in by promptcanvas.adapters.db.migrate."""

from __future__ import annotations

from alembic import context

from promptcanvas.adapters.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `promptcanvas db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
