"""Uploads: validate, store content-addressed (file first, then row), attach to prompts."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO

from promptcanvas.domain import errors
from promptcanvas.domain.assets import Asset, Generation, blob_key, thumbnail_key
from promptcanvas.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    StorageUnavailable,
    TooLarge,
)
from promptcanvas.domain.ids import is_valid_id, new_id
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.ports.storage import (
    ObjectNotFound,
    Storage,
    StorageError,
    StorageFull,
    StorageReadOnly,
)
from promptcanvas.services.imaging import inspect_image

log = logging.getLogger(__name__)


def write_refused(exc: StorageError) -> StorageUnavailable:
    """The domain error for a write the file store refused, saying why when the store knows:
    full (507) or read-only (503); never the store's own text (paths, endpoints)."""
    if isinstance(exc, StorageFull):
        return errors.StorageFull(
            "the file store is full; nothing was stored. Free some space and try again"
        )
    if isinstance(exc, StorageReadOnly):
        return StorageUnavailable("the file store is read-only right now; nothing was stored")
    return StorageUnavailable("the file store cannot be written right now; nothing was stored")


MAX_PARAMETERS_BYTES = 64 * 1024
MAX_PARAMETERS_DEPTH = 32
MAX_NAME = 200


@dataclass(frozen=True)
class UploadResult:
    """The stored asset, whether it was new, and the generation it was attached to."""

    asset: Asset
    created: bool
    generation: Generation | None


def _clean_name(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", {"field": field})
    if any(ord(c) < 32 for c in value):
        raise InvalidInput(f"{field} must not contain control characters", {"field": field})
    return value or None


def clean_filename(value: str | None, limit: int = 255) -> str | None:
    """An uploaded file's name as metadata only: its last path part, NFC, no control or
    format characters, at most `limit` characters (keeping the extension). Storage keys come
    from the content's hash, never from this."""
    name = re.split(r"[/\\]", value or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = unicodedata.normalize("NFC", name).strip()
    if name in ("", ".", ".."):
        return None
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        keep = dot + ext if stem and len(ext) <= 16 else ""
        name = name[: limit - len(keep)].rstrip() + keep
    return name


def parse_parameters(raw: str | None) -> dict[str, Any]:
    """Parse the `parameters` form field: a JSON object of at most 64 KiB."""
    if raw is None or not raw.strip():
        return {}
    if len(raw.encode()) > MAX_PARAMETERS_BYTES:
        raise InvalidInput("parameters is larger than 64 KiB", {"field": "parameters"})
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidInput("parameters must be a JSON object", {"field": "parameters"}) from None
    if not isinstance(value, dict):
        raise InvalidInput("parameters must be a JSON object", {"field": "parameters"})
    _check_json(value, MAX_PARAMETERS_DEPTH)
    return value


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON: PostgreSQL refuses them and responses cannot carry them.
    raise ValueError(f"{name} is not a JSON value")


def _check_json(value: Any, depth: int) -> None:
    """Refuse what a database could not store as JSON text: deep nesting, lone surrogates."""
    if depth < 0:
        raise InvalidInput(
            f"parameters nest deeper than {MAX_PARAMETERS_DEPTH} levels", {"field": "parameters"}
        )
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidInput(
                "parameters contain text that is not valid Unicode", {"field": "parameters"}
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, depth)
            _check_json(item, depth - 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth - 1)


class AssetService:
    """Asset use cases."""

    def __init__(
        self,
        uow: UowFactory,
        storage: Storage,
        clock: Clock,
        *,
        max_bytes: int,
        max_pixels: int,
        thumb_size: int,
    ) -> None:
        self.uow = uow
        self.storage = storage
        self.clock = clock
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.thumb_size = thumb_size

    def upload(
        self,
        owner_id: str,
        data: bytes,
        *,
        filename: str | None = None,
        prompt_id: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        model_version: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> UploadResult:
        """Store an image once per content; optionally record it as an output of a prompt."""
        if len(data) > self.max_bytes:
            raise TooLarge(
                f"the file is {len(data):,} bytes; the limit is {self.max_bytes:,}",
                {"field": "file", "limit": self.max_bytes},
            )
        provider = _clean_name(provider, "provider", 100) or "manual"
        model = _clean_name(model, "model", MAX_NAME)
        model_version = _clean_name(model_version, "model_version", 100)
        filename = clean_filename(filename)
        if prompt_id is not None:
            self._live_prompt(owner_id, prompt_id)
        info, thumb = inspect_image(data, max_pixels=self.max_pixels, thumb_size=self.thumb_size)
        sha = hashlib.sha256(data).hexdigest()
        # Files first, rows second: a crash in between leaves only an orphan file, which the
        # sweeper removes; a row never points at a missing file.
        self._put(blob_key(sha), data)
        self._put(thumbnail_key(sha), thumb)
        now = self.clock.now()
        candidate = Asset(
            id=new_id(),
            owner_id=owner_id,
            sha256=sha,
            media_type=info.media_type,
            size=len(data),
            width=info.width,
            height=info.height,
            created_at=now,
            storage_key=blob_key(sha),
            thumbnail_key=thumbnail_key(sha),
            original_name=filename,
            phash=info.phash,
        )
        generation = None
        with self.uow() as uow:
            asset = uow.assets.add(candidate)
            if prompt_id is not None:
                prompt = uow.prompts.get(owner_id, prompt_id)
                if prompt is None or prompt.in_trash:
                    raise NotFound("prompt not found", {"field": "prompt_id"})
                generation = uow.assets.generation_with_asset(prompt_id, asset.id)
                if generation is None:
                    params = parameters or {}
                    seed = params.get("seed")
                    generation = Generation(
                        id=new_id(),
                        owner_id=owner_id,
                        prompt_id=prompt_id,
                        provider=provider,
                        model=model,
                        model_version=model_version,
                        parameters=params,
                        created_at=now,
                        seed=seed
                        if isinstance(seed, int)
                        and not isinstance(seed, bool)
                        and abs(seed) < 2**63
                        else None,
                        asset_ids=[asset.id],
                    )
                    uow.assets.add_generation(generation)
            uow.commit()
        self.restore_files(asset.sha256, data, thumb)
        return UploadResult(asset, asset.id == candidate.id, generation)

    def prepare_output(self, owner_id: str, data: bytes, name: str) -> tuple[Asset, bytes]:
        """Validate and store a generated file; return the asset row to add, and its thumbnail.

        Files first, rows second (the caller adds the row), as for uploads.
        """
        info, thumb = inspect_image(data, max_pixels=self.max_pixels, thumb_size=self.thumb_size)
        sha = hashlib.sha256(data).hexdigest()
        self._put(blob_key(sha), data)
        self._put(thumbnail_key(sha), thumb)
        asset = Asset(
            id=new_id(),
            owner_id=owner_id,
            sha256=sha,
            media_type=info.media_type,
            size=len(data),
            width=info.width,
            height=info.height,
            created_at=self.clock.now(),
            storage_key=blob_key(sha),
            thumbnail_key=thumbnail_key(sha),
            original_name=name,
            phash=info.phash,
        )
        return asset, thumb

    def restore_files(self, sha: str, data: bytes, thumb: bytes) -> None:
        """After a commit, put back files the orphan sweeper may have taken meanwhile."""
        # The sweeper may have removed an old orphan copy of these bytes between our put and
        # our commit; putting back what is missing closes that window.
        for key, content in ((blob_key(sha), data), (thumbnail_key(sha), thumb)):
            if not self.storage.exists(key):
                self._put(key, content)

    def _live_prompt(self, owner_id: str, prompt_id: str) -> None:
        with self.uow(write=False) as uow:
            prompt = uow.prompts.get(owner_id, prompt_id) if is_valid_id(prompt_id) else None
        if prompt is None:
            raise NotFound("prompt not found", {"field": "prompt_id", "prompt_id": prompt_id})
        if prompt.in_trash:
            raise Conflict("the prompt is in the trash; restore it first", {"field": "prompt_id"})

    def _put(self, key: str, data: bytes) -> None:
        try:
            self.storage.put(key, data)
        except StorageError as exc:
            log.error("storage write failed for %s: %s", key, exc)
            raise write_refused(exc) from None

    def get(self, owner_id: str, asset_id: str) -> Asset:
        """One of the owner's assets."""
        with self.uow(write=False) as uow:
            asset = uow.assets.get(owner_id, asset_id) if is_valid_id(asset_id) else None
        if asset is None:
            raise NotFound("asset not found", {"asset_id": asset_id})
        return asset

    def open(self, asset: Asset, *, thumbnail: bool = False) -> BinaryIO:
        """An open stream of an asset's bytes (or of its WebP thumbnail); get() it first."""
        key = asset.thumbnail_key if thumbnail else asset.storage_key
        if key is None:
            raise NotFound("this asset has no thumbnail", {"asset_id": asset.id})
        try:
            return self.storage.open(key)
        except ObjectNotFound:
            log.error("asset %s points at missing object %s", asset.id, key)
            raise StorageUnavailable(
                "the stored file is missing; run `promptcanvas doctor`"
            ) from None
        except StorageError:
            raise StorageUnavailable("the file store cannot be read right now") from None
