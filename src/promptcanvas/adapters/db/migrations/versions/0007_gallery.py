"""Indexes for the gallery: live outputs newest first, the model filters, rating order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The gallery's first page walks this index in order and stops after one page, whatever
    # the library's size; trashed_at comes before the date so "not in the trash" stays a prefix.
    op.create_index(
        "ix_generations_owner_trash_created",
        "generations",
        ["owner_id", "trashed_at", "created_at", "id"],
    )
    # The filter menus' distinct providers, models and versions, read from the index alone.
    op.create_index(
        "ix_generations_owner_provider",
        "generations",
        ["owner_id", "provider", "model", "model_version"],
    )

    # "Highest rated": prompts in rating order (unrated last), then each one's outputs.
    op.create_index(
        "ix_prompts_owner_rating",
        "prompts",
        ["owner_id", sa.text("coalesce(rating, -1)"), "pk"],
    )


def downgrade() -> None:
    op.drop_index("ix_prompts_owner_rating", "prompts")
    op.drop_index("ix_generations_owner_provider", "generations")
    op.drop_index("ix_generations_owner_trash_created", "generations")
