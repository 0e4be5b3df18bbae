"""Portfolios (ordered outputs with captions, shared by an unguessable token), the trash
flag on generations and an index for the live jobs stream, for the web UI.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptcanvas.adapters.db.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.String(26)


def upgrade() -> None:
    op.create_table(
        "portfolios",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("project_id", ID, sa.ForeignKey("projects.id", ondelete="SET NULL")),
        sa.Column("cover_asset_id", ID),
        # Null while unpublished; a fresh token on every publish, so revoking kills old links.
        sa.Column("share_token", sa.String(64), unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_portfolios_owner", "portfolios", ["owner_id", "updated_at"])
    op.create_table(
        "portfolio_items",
        sa.Column(
            "portfolio_id",
            ID,
            sa.ForeignKey("portfolios.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("asset_id", ID, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("generation_id", ID, sa.ForeignKey("generations.id", ondelete="SET NULL")),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("caption", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_portfolio_items_order", "portfolio_items", ["portfolio_id", "position"])
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("trashed_at", UTCDateTime))
    # The live jobs page asks "what changed since the last tick" for one owner.
    op.create_index("ix_jobs_owner_updated", "jobs", ["owner_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_owner_updated", "jobs")
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("trashed_at")
    op.drop_index("ix_portfolio_items_order", "portfolio_items")
    op.drop_table("portfolio_items")
    op.drop_index("ix_portfolios_owner", "portfolios")
    op.drop_table("portfolios")
