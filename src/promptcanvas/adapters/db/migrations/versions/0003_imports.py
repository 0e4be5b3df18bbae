"""Imports: the state of every file an import has looked at, for incremental, resumable runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptcanvas.adapters.db.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(26)


def upgrade() -> None:
    op.create_table(
        "import_files",
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        # sha256 of the source key (a path can be longer than an index entry may be).
        sa.Column("path_key", sa.String(64), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("asset_id", ID),
        sa.Column("generation_id", ID),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "path_key", name="pk_import_files"),
    )
    op.create_index("ix_import_files_run", "import_files", ["run_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_import_files_run", "import_files")
    op.drop_table("import_files")
