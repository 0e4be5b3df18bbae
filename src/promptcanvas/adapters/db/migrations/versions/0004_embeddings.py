"""Semantic layer: stored prompt embeddings and the queue of prompts to embed.

Triggers on `prompts` queue a prompt when it is inserted and when its text changes, so every
writer (API, imports, batches, restores) is covered without knowing about embeddings.
Prompts that exist already are queued here once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptcanvas.adapters.db.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(26)
PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")
ENQUEUE = "INSERT INTO embedding_queue (prompt_pk, owner_id) VALUES (NEW.pk, NEW.owner_id)"


def upgrade() -> None:
    op.create_table(
        "prompt_embeddings",
        sa.Column("prompt_pk", PK, sa.ForeignKey("prompts.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("identity", sa.String(200), nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("text_hash", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("prompt_pk", "identity", name="pk_prompt_embeddings"),
    )
    op.create_index(
        "ix_prompt_embeddings_identity_updated", "prompt_embeddings", ["identity", "updated_at"]
    )
    op.create_table(
        "embedding_queue",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("prompt_pk", PK, sa.ForeignKey("prompts.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("owner_id", ID, nullable=False),
    )
    op.create_index("ix_embedding_queue_owner", "embedding_queue", ["owner_id", "id"])
    op.create_index("ix_embedding_queue_prompt", "embedding_queue", ["prompt_pk"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE TRIGGER trg_prompts_embed_insert AFTER INSERT ON prompts BEGIN {ENQUEUE}; END"
        )
        op.execute(
            "CREATE TRIGGER trg_prompts_embed_update AFTER UPDATE OF text ON prompts "
            f"WHEN NEW.text IS NOT OLD.text BEGIN {ENQUEUE}; END"
        )
    else:
        op.execute(
            "CREATE FUNCTION prompts_embed_enqueue() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {ENQUEUE}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER trg_prompts_embed_insert AFTER INSERT ON prompts "
            "FOR EACH ROW EXECUTE FUNCTION prompts_embed_enqueue()"
        )
        op.execute(
            "CREATE TRIGGER trg_prompts_embed_update AFTER UPDATE OF text ON prompts "
            "FOR EACH ROW WHEN (NEW.text IS DISTINCT FROM OLD.text) "
            "EXECUTE FUNCTION prompts_embed_enqueue()"
        )
    op.execute(
        "INSERT INTO embedding_queue (prompt_pk, owner_id) SELECT pk, owner_id FROM prompts "
        "ORDER BY pk"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in ("trg_prompts_embed_update", "trg_prompts_embed_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else " ON prompts"))
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS prompts_embed_enqueue()")
    op.drop_table("embedding_queue")
    op.drop_table("prompt_embeddings")
