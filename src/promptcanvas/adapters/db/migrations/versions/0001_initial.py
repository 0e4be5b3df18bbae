"""Initial schema: users, keys, sessions, projects, prompts with search index, assets, generations.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptcanvas.adapters.db.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(26)
PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_api_keys_user", "api_keys", ["user_id"])
    for name in ("login_tokens", "sessions"):
        op.create_table(
            name,
            sa.Column("token_hash", sa.String(64), primary_key=True),
            sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
            sa.Column("created_at", UTCDateTime, nullable=False),
            sa.Column("expires_at", UTCDateTime, nullable=False),
            *([sa.Column("used_at", UTCDateTime)] if name == "login_tokens" else []),
        )
    op.create_table(
        "projects",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("owner_id", "name", name="uq_projects_owner_name"),
    )
    op.create_table(
        "prompts",
        sa.Column("pk", PK, primary_key=True, autoincrement=True),
        sa.Column("id", ID, nullable=False, unique=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("negative_text", sa.Text, nullable=False),
        sa.Column("category", sa.String(100)),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("starred", sa.Boolean, nullable=False),
        sa.Column("rating", sa.SmallInteger),
        sa.Column("author", sa.String(200)),
        sa.Column("project_id", ID, sa.ForeignKey("projects.id", ondelete="SET NULL")),
        sa.Column("parent_id", ID),
        sa.Column("note", sa.Text),
        sa.Column("output_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime),
    )
    live = sa.text("deleted_at IS NULL")
    op.create_index(
        "ix_prompts_owner_live",
        "prompts",
        ["owner_id", "pk"],
        sqlite_where=live,
        postgresql_where=live,
    )
    op.create_index("ix_prompts_owner_trash", "prompts", ["owner_id", "deleted_at"])
    op.create_index("ix_prompts_owner_category", "prompts", ["owner_id", "category", "pk"])
    op.create_index("ix_prompts_owner_created", "prompts", ["owner_id", "created_at"])
    op.create_index("ix_prompts_project", "prompts", ["project_id", "pk"])
    op.create_index("ix_prompts_parent", "prompts", ["parent_id"])
    starred = sa.text("starred")
    op.create_index(
        "ix_prompts_owner_starred",
        "prompts",
        ["owner_id", "pk"],
        sqlite_where=starred,
        postgresql_where=starred,
    )
    op.create_table(
        "prompt_tags",
        sa.Column(
            "prompt_pk", PK, sa.ForeignKey("prompts.pk", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("tag", sa.String(100), primary_key=True),
        sa.Column("owner_id", ID, nullable=False),
    )
    op.create_index("ix_prompt_tags_owner_tag", "prompt_tags", ["owner_id", "tag", "prompt_pk"])
    op.create_table(
        "assets",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("duration", sa.Float),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("thumbnail_key", sa.String(512)),
        sa.Column("original_name", sa.String(255)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("owner_id", "sha256", name="uq_assets_owner_sha256"),
    )
    op.create_index("ix_assets_sha256", "assets", ["sha256"])
    op.create_table(
        "generations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prompt_id", ID, sa.ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("model_version", sa.String(100)),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("seed", sa.BigInteger),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("cost", sa.Float),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_generations_prompt_model", "generations", ["prompt_id", "model"])
    op.create_index("ix_generations_owner_model", "generations", ["owner_id", "model"])
    op.create_table(
        "generation_assets",
        sa.Column(
            "generation_id",
            ID,
            sa.ForeignKey("generations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("asset_id", ID, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_generation_assets_asset", "generation_assets", ["asset_id"])

    if op.get_bind().dialect.name == "sqlite":
        # rowid = prompts.pk. Fields are indexed as the token strings made by
        # promptcanvas.domain.text.index_document, so SQLite and PostgreSQL match alike.
        op.execute(
            "CREATE VIRTUAL TABLE prompt_fts USING fts5("
            "text_doc, meta_doc, negative_doc, tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute("INSERT INTO prompt_fts(prompt_fts, rank) VALUES('rank', 'bm25(4.0, 2.0, 0.5)')")
    else:
        op.execute("ALTER TABLE prompts ADD COLUMN search_vector tsvector")
        op.execute("CREATE INDEX ix_prompts_search ON prompts USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS prompt_fts")
    for name in (
        "generation_assets",
        "generations",
        "assets",
        "prompt_tags",
        "prompts",
        "projects",
        "sessions",
        "login_tokens",
        "api_keys",
        "users",
    ):
        op.drop_table(name)
