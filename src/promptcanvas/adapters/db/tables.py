"""Table definitions. Alembic migrations are the schema's source of truth; these mirror them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on every database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Convert aware datetimes to naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Attach UTC to stored values."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


ID = sa.String(26)
metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
)

login_tokens = sa.Table(
    "login_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("owner_id", "name", name="uq_projects_owner_name"),
)

prompts = sa.Table(
    "prompts",
    metadata,
    sa.Column(
        "pk",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("id", ID, nullable=False, unique=True, insert_sentinel=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("negative_text", sa.Text, nullable=False, default=""),
    sa.Column("category", sa.String(100)),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("starred", sa.Boolean, nullable=False, default=False),
    sa.Column("rating", sa.SmallInteger),
    sa.Column("author", sa.String(200)),
    sa.Column("project_id", ID, sa.ForeignKey("projects.id", ondelete="SET NULL")),
    sa.Column("parent_id", ID),
    sa.Column("note", sa.Text),
    sa.Column("output_count", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("deleted_at", UTCDateTime),
)

prompt_tags = sa.Table(
    "prompt_tags",
    metadata,
    sa.Column(
        "prompt_pk",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("prompts.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tag", sa.String(100), primary_key=True),
    sa.Column("owner_id", ID, nullable=False),
)

assets = sa.Table(
    "assets",
    metadata,
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
    sa.Column("phash", sa.String(16)),
    sa.UniqueConstraint("owner_id", "sha256", name="uq_assets_owner_sha256"),
)

generations = sa.Table(
    "generations",
    metadata,
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
    sa.Column("trashed_at", UTCDateTime),  # hidden from the gallery; restorable (0006)
)

generation_assets = sa.Table(
    "generation_assets",
    metadata,
    sa.Column(
        "generation_id", ID, sa.ForeignKey("generations.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("asset_id", ID, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, default=0),
)

jobs = sa.Table(
    "jobs",
    metadata,
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

job_attempts = sa.Table(
    "job_attempts",
    metadata,
    sa.Column("job_id", ID, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("provider", sa.String(100), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("worker", sa.String(200)),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),  # "success" or an error kind
    sa.Column("message", sa.Text),
)

batches = sa.Table(
    "batches",
    metadata,
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

# Every file an import looked at, keyed by owner and a hash of its source path (incremental
# re-runs skip unchanged files; the row is written with the file's generation, so a crash
# never leaves a file half-imported). Mirrors migration 0003.
import_files = sa.Table(
    "import_files",
    metadata,
    sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("path_key", sa.String(64), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("state", sa.String(12), nullable=False),  # imported | duplicate | failed
    sa.Column("reason", sa.String(200)),
    sa.Column("asset_id", ID),
    sa.Column("generation_id", ID),
    sa.Column("run_id", ID, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("owner_id", "path_key", name="pk_import_files"),
)

# Portfolios (migration 0006): ordered outputs with captions, shared at /p/{share_token}.
portfolios = sa.Table(
    "portfolios",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("project_id", ID, sa.ForeignKey("projects.id", ondelete="SET NULL")),
    sa.Column("cover_asset_id", ID),
    sa.Column("share_token", sa.String(64), unique=True),  # null while not published
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

portfolio_items = sa.Table(
    "portfolio_items",
    metadata,
    sa.Column(
        "portfolio_id", ID, sa.ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("asset_id", ID, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("generation_id", ID, sa.ForeignKey("generations.id", ondelete="SET NULL")),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("caption", sa.Text, nullable=False, server_default=""),
)

# Tables in dependency order: used by backup/restore and by test cleanup.
ALL_TABLES = [
    users,
    api_keys,
    login_tokens,
    sessions,
    projects,
    prompts,
    prompt_tags,
    assets,
    generations,
    generation_assets,
    jobs,
    job_attempts,
    batches,
    import_files,
    portfolios,
    portfolio_items,
]

# Semantic layer (migration 0004). Derived data, rebuilt from prompts: not in ALL_TABLES, so
# backups leave it out (a restore re-queues every prompt through the insert trigger) and
# PostgreSQL test cleanup empties it through the cascade from `prompts`.
prompt_embeddings = sa.Table(
    "prompt_embeddings",
    metadata,
    sa.Column(
        "prompt_pk",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("prompts.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("identity", sa.String(200), nullable=False),  # the embedder's identity
    sa.Column("owner_id", ID, nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float16, little-endian
    sa.Column("text_hash", sa.String(32), nullable=False),  # of the text it was made from
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("prompt_pk", "identity", name="pk_prompt_embeddings"),
)

# Prompts to (re-)embed, filled by triggers on prompts (insert, change of text).
embedding_queue = sa.Table(
    "embedding_queue",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column(
        "prompt_pk",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("prompts.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("owner_id", ID, nullable=False),
)
