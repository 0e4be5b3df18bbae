"""Every knob PromptCanvas has, read from PROMPTCANVAS_* environment variables."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ModelConfig(BaseModel):
    """One model of a configured provider: its versions and prices."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["image", "text", "vision", "video"] = "image"
    versions: list[str] = []
    default_version: str | None = None
    # Prices in US dollars. `price_per_image` is the fallback; `prices` overrides it per
    # "WxH" or "WxH/quality" key; token prices are per 1,000 tokens.
    price_per_image: float | None = Field(default=None, ge=0)
    prices: dict[str, float] = {}
    price_per_1k_input_tokens: float | None = Field(default=None, ge=0)
    price_per_1k_output_tokens: float | None = Field(default=None, ge=0)


class ProviderConfig(BaseModel):
    """One provider as the deployer configured it. The API key comes from the environment."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    adapter: Literal["local", "openai", "sdwebui", "comfyui"]
    base_url: str | None = None
    api_key_env: str | None = None
    api_key_file: Path | None = None
    models: dict[str, ModelConfig] = {}
    concurrency: int = Field(default=4, ge=1, le=256)
    requests_per_minute: int | None = Field(default=None, ge=1)
    timeout_seconds: float = Field(default=120.0, gt=0)
    deterministic: bool | None = None
    options: dict[str, Any] = {}  # adapter-specific (e.g. a ComfyUI workflow file)

    def api_key(self) -> str | None:
        """The secret, read when needed from the environment or a secrets file; never stored."""
        if self.api_key_env:
            value = os.environ.get(self.api_key_env)
            if value:
                return value.strip()
        if self.api_key_file and self.api_key_file.is_file():
            return self.api_key_file.read_text().strip() or None
        return None


class Settings(BaseSettings):
    """One settings object, built once by the composition root and passed into constructors."""

    model_config = SettingsConfigDict(env_prefix="PROMPTCANVAS_", env_file=None, extra="ignore")

    data_dir: Path = Path("./promptcanvas-data")
    database_url: str | None = None
    storage_url: str | None = None

    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    # Addresses of the TLS proxy whose X-Forwarded-Proto/For uvicorn trusts (comma-separated,
    # or "*"); None keeps uvicorn's default (127.0.0.1, or its FORWARDED_ALLOW_IPS variable).
    # Behind a proxy this is what makes cookies Secure and redirects https.
    forwarded_allow_ips: str | None = None
    public_url: str | None = None

    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Capped at Pillow's own decompression-bomb limit, which refuses larger images anyway.
    max_image_pixels: int = Field(default=64_000_000, ge=1, le=89_478_485)
    thumbnail_size: int = Field(default=384, ge=16, le=2048)
    login_link_ttl_seconds: int = Field(default=900, ge=10)
    session_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    orphan_grace_seconds: int = Field(default=3600, ge=0)
    portfolio_export_max_bytes: int = Field(default=1024**3, ge=1)  # a portfolio's HTML zip
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)

    # Providers: a JSON list of ProviderConfig objects, inline or in a file. The offline
    # `local` provider is always available unless a provider of that name is configured.
    providers: list[ProviderConfig] = []
    providers_file: Path | None = None

    # Jobs.
    queue: Literal["embedded", "celery"] = "embedded"
    # Embedded worker threads in `serve`. A thread is busy for a whole job (claim, call, store)
    # but holds a provider slot only during the call, so about twice a provider's concurrency
    # keeps it full (measured: 8 threads reach 67% of an 8-slot provider, 16 threads 99%).
    workers: int = Field(default=16, ge=0, le=256)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=60.0, ge=0)
    broker_url: str | None = None  # Celery broker (redis://...)
    redis_url: str | None = None  # shared rate limits; defaults to broker_url
    # Circuit breaker per provider (shared through redis_url when set): `breaker_threshold`
    # unhealthy outcomes in a row (5xx, timeouts, unreadable bodies; 0 turns it off) within
    # `breaker_window_seconds` open it for `breaker_open_seconds`, doubled after each failed
    # probe up to `breaker_max_open_seconds`. Jobs held back go to their fallback, or wait
    # (no attempt counted) at most `breaker_max_wait_seconds`, then fail as unavailable.
    breaker_threshold: int = Field(default=5, ge=0, le=1000)
    breaker_window_seconds: float = Field(default=60.0, gt=0)
    breaker_open_seconds: float = Field(default=30.0, gt=0)
    breaker_max_open_seconds: float = Field(default=600.0, gt=0)
    breaker_max_wait_seconds: float = Field(default=900.0, ge=0)

    # Request rate limits: a token bucket per API key, browser session or (signed out) client
    # address; over it the answer is 429 with Retry-After. `heavy` is a second, lower bucket
    # for submitting work (generations, uploads, imports, batches). Shared through Redis when
    # redis_url (or the Celery broker) is set. A rate of 0 turns that limit off.
    # Measured: 20 writers on one key reach ~125 req/s, far below what the bursts absorb.
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=5000, ge=1)
    rate_limit_heavy_per_second: float = Field(default=30.0, ge=0)
    rate_limit_heavy_burst: int = Field(default=1500, ge=1)

    # Imports. `import_roots`: server folders POST /api/v1/imports may read ({"path": ...});
    # empty (the default) disables path imports. A JSON list, or paths separated by os.pathsep.
    import_roots: Annotated[list[Path], NoDecode] = []
    import_max_file_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    import_zip_max_members: int = Field(default=50_000, ge=1)
    import_zip_max_bytes: int = Field(default=8 * 1024**3, ge=1)  # unpacked total
    import_processes: int = Field(default=0, ge=0, le=64)  # import workers; 0: one per CPU
    import_watch_seconds: float = Field(default=1.0, gt=0)  # --watch polling interval
    import_settle_seconds: float = Field(default=2.0, ge=0)  # unchanged this long: written

    # Semantic search. `embedder`: "static" (the shipped model2vec model: offline, no torch),
    # "minilm" (the [minilm] extra, needs torch) or "openai" (any OpenAI-compatible
    # /embeddings endpoint at embedder_base_url, key read from the env var it names).
    embedder: Literal["static", "minilm", "openai"] = "static"
    embedder_model: str | None = None
    embedder_base_url: str | None = None
    embedder_api_key_env: str | None = None
    embedder_dim: int | None = Field(default=None, ge=8, le=8192)
    embedder_timeout_seconds: float = Field(default=30.0, gt=0)
    # An owner with more vectors than this is searched through a usearch HNSW graph over
    # quantised vectors (approximate, ~1 ms at 1M); below it exactly, in float32.
    vector_exact_limit: int = Field(default=20_000, ge=0)
    vector_quantisation: Literal["f32", "f16", "i8"] = "f16"
    semantic_sync_seconds: float = Field(default=2.0, gt=0)  # queue jobs, follow other writers
    # Start that sync thread on the first semantic query (off: call indexer.tick() yourself).
    semantic_background: bool = True

    # Semantic cache of text-model answers (prompt writing and the like; never images or
    # video): an exact match first, then the most similar earlier request if the cosine
    # similarity of their unit vectors is at least the threshold. Scoped by owner, provider,
    # model, version and parameters. A TTL of 0 turns the cache off.
    semantic_cache_threshold: float = Field(default=0.90, ge=0.5, le=1.0)
    semantic_cache_ttl_seconds: float = Field(default=7 * 24 * 3600, ge=0)
    semantic_cache_candidates: int = Field(default=5000, ge=1, le=100_000)  # compared per call

    @field_validator("import_roots", mode="before")
    @classmethod
    def _import_roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.split(os.pathsep) if part.strip()]
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _providers_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    def provider_configs(self) -> list[ProviderConfig]:
        """Configured providers (inline and from the file), plus `local` unless overridden."""
        configs = list(self.providers)
        if self.providers_file is not None:
            raw = json.loads(self.providers_file.read_text())
            configs += [ProviderConfig.model_validate(item) for item in raw]
        if not any(c.name == "local" for c in configs):
            configs.insert(0, ProviderConfig(name="local", adapter="local", concurrency=4))
        return configs

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'promptcanvas.db').resolve()}"

    @property
    def resolved_storage_url(self) -> str:
        """The storage URL, defaulting to a folder inside the data dir."""
        if self.storage_url:
            return self.storage_url
        return f"file://{(self.data_dir / 'files').resolve()}"

    @property
    def base_url(self) -> str:
        """Where browsers reach this server (used for login links and share URLs)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def database_kind(self) -> str:
        """'sqlite' or 'postgresql'."""
        url = self.resolved_database_url
        return "postgresql" if url.startswith("postgres") else "sqlite"

    @property
    def storage_kind(self) -> str:
        """'local' or 's3'."""
        return "s3" if self.resolved_storage_url.startswith("s3://") else "local"

    @property
    def mode(self) -> str:
        """'embedded' when everything runs in-process, 'scaled' otherwise."""
        if self.database_kind == "sqlite" and self.storage_kind == "local":
            return "embedded"
        return "scaled"
