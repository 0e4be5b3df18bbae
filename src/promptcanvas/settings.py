"""Every knob PromptCanvas has, read from PROMPTCANVAS_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    public_url: str | None = None

    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Capped at Pillow's own decompression-bomb limit, which refuses larger images anyway.
    max_image_pixels: int = Field(default=64_000_000, ge=1, le=89_478_485)
    thumbnail_size: int = Field(default=384, ge=16, le=2048)
    login_link_ttl_seconds: int = Field(default=900, ge=10)
    session_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    orphan_grace_seconds: int = Field(default=3600, ge=0)
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)

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
