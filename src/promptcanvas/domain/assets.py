"""Assets (stored files) and generations (a prompt's outputs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MEDIA_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}


def blob_key(sha256: str) -> str:
    """Storage key of a content-addressed file."""
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def thumbnail_key(sha256: str, media_type: str = "image/webp") -> str:
    """Storage key of a file's thumbnail (WebP, or JPEG: imports make opaque ones as JPEG)."""
    ext = "jpg" if media_type == "image/jpeg" else "webp"
    return f"thumbs/{sha256[:2]}/{sha256}.{ext}"


def thumbnail_media_type(key: str) -> str:
    """The media type of the thumbnail stored under this key."""
    return "image/jpeg" if key.endswith(".jpg") else "image/webp"


@dataclass
class Asset:
    """A stored file owned by one user; the bytes live once per sha256 in storage."""

    id: str
    owner_id: str
    sha256: str
    media_type: str
    size: int
    width: int | None
    height: int | None
    created_at: datetime
    storage_key: str
    thumbnail_key: str | None = None
    duration: float | None = None
    original_name: str | None = None
    phash: str | None = None  # 64-bit perceptual hash as 16 hex digits (images only)


@dataclass
class Generation:
    """One run of a prompt on a provider/model/version, with the assets it produced."""

    id: str
    owner_id: str
    prompt_id: str
    provider: str
    model: str | None
    model_version: str | None
    parameters: dict[str, Any]
    created_at: datetime
    seed: int | None = None
    status: str = "SUCCESS"
    cost: float | None = None
    latency_ms: int | None = None
    asset_ids: list[str] = field(default_factory=list)
    job_id: str | None = None
    batch_id: str | None = None
    source_generation_id: str | None = None  # the "before" of a batch re-run
    error: str | None = None
    cache_key: str | None = None
    cached_from: str | None = None  # generation whose stored result was reused
    fallback_from: str | None = None  # the target first asked for, when a fallback ran
    revised_prompt: str | None = None
    usage: dict[str, Any] | None = None
    finished_at: datetime | None = None
    trashed_at: datetime | None = None  # hidden from the gallery until restored (0006)
