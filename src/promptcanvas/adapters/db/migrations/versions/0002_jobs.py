"""Jobs, attempts, batches; generation tracking columns; perceptual hashes on assets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptcanvas.adapters.db.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(26)

GENERATION_COLUMNS = [
    sa.Column("job_id", ID),
    sa.Column("batch_id", ID),
    sa.Column("source_generation_id", ID),
    sa.Column("error", sa.Text),
    sa.Column("cache_key", sa.String(64)),
    sa.Column("cached_from", ID),
    sa.Column("fallback_from", sa.String(300)),
    sa.Column("revised_prompt", sa.Text),
    sa.Column("usage", sa.JSON),
    sa.Column("finished_at", UTCDateTime),
]


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("phash", sa.String(16)))
    with op.batch_alter_table("generations") as batch:
        for column in GENERATION_COLUMNS:
            batch.add_column(column)
    op.create_index("ix_generations_batch", "generations", ["batch_id"])
    op.create_index("ix_generations_job", "generations", ["job_id"])
    # cache_key first: with owner_id first SQLite would pick this index for per-prompt reads.
    op.create_index("ix_generations_cache", "generations", ["cache_key", "owner_id"])
    op.create_table(
        "jobs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("target_index", sa.Integer, nullable=False),
        sa.Column("target_attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("error_kind", sa.String(40)),
        sa.Column("worker", sa.String(200)),
        sa.Column("claim_token", sa.String(32)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("batch_id", ID),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("request_hash", sa.String(64)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("run_after", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("owner_id", "idempotency_key", name="uq_jobs_owner_idempotency"),
    )
    # The claim query walks this index: runnable work in priority, then due-time, order.
    op.create_index("ix_jobs_claim", "jobs", ["status", "priority", "run_after"])
    op.create_index("ix_jobs_owner_created", "jobs", ["owner_id", "created_at"])
    op.create_index("ix_jobs_batch_status", "jobs", ["batch_id", "status"])
    op.create_table(
        "job_attempts",
        sa.Column("job_id", ID, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("worker", sa.String(200)),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("message", sa.Text),
    )
    op.create_index("ix_job_attempts_provider", "job_attempts", ["provider", "outcome"])
    op.create_table(
        "batches",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(100)),
        sa.Column("params_override", sa.JSON, nullable=False),
        sa.Column("seeds", sa.String(8), nullable=False),
        sa.Column("query", sa.JSON),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("cancelled_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_batches_owner_created", "batches", ["owner_id", "created_at"])


def downgrade() -> None:
    op.drop_table("batches")
    op.drop_table("job_attempts")
    op.drop_table("jobs")
    op.drop_index("ix_generations_cache", "generations")
    op.drop_index("ix_generations_job", "generations")
    op.drop_index("ix_generations_batch", "generations")
    with op.batch_alter_table("generations") as batch:
        for column in GENERATION_COLUMNS:
            batch.drop_column(column.name)
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("phash")
