"""The semantic cache of text-model answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptcanvas.adapters.db.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(26)


def upgrade() -> None:
    op.create_table(
        "text_cache",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        # sha256 of provider, model, version, parameters and the conversation before the
        # request: nothing is ever served across owners, models or parameters.
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),  # sha256 of scope + request
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("usage", sa.JSON, nullable=False),
        sa.Column("embedder", sa.String(200)),
        sa.Column("vector", sa.LargeBinary),  # float32 little-endian, unit length
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("last_hit_at", UTCDateTime),
        sa.UniqueConstraint("owner_id", "scope", "key", name="uq_text_cache_key"),
    )
    op.create_index("ix_text_cache_scope", "text_cache", ["owner_id", "scope", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_text_cache_scope", "text_cache")
    op.drop_table("text_cache")
