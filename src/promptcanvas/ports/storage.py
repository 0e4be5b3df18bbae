"""Storage port: a flat namespace of immutable objects addressed by key."""

from __future__ import annotations

import abc
import io
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO


class StorageError(Exception):
    """The store could not complete the operation (unreachable, full, read-only)."""


class ObjectNotFound(StorageError):
    """No object has that key."""


class StorageFull(StorageError):
    """The store has no room left (disk full, quota exceeded): nothing was written."""


class StorageReadOnly(StorageError):
    """The store refuses writes (read-only filesystem, write access denied): nothing was written."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What the store knows of one object."""

    key: str
    size: int
    modified_at: datetime


class Storage(abc.ABC):
    """Keys and streams, never filesystem paths.

    Contract:
    - Keys are '/'-separated relative names of [A-Za-z0-9._-] segments; no '..', no leading '/'.
    - `put(key, data)` is atomic: once it returns, `open(key)` yields exactly `data`; a crash
      mid-put leaves either no object or the whole object, never a partial one. Callers use
      content-addressed keys (the key names the bytes), so a put of an existing key may keep
      the stored object instead of rewriting it; either way it refreshes the modification
      time, which the orphan sweeper reads as "recently in use".
    - `open(key)` returns a readable binary stream the caller closes; `ObjectNotFound` if absent.
    - `delete(key)` is idempotent: deleting a missing key is not an error.
    - `list(prefix)` yields every object whose key starts with prefix, in no particular order.
    - `url_for(key, expires)` returns a URL a browser can GET directly, or None when the store
      has no such URL (local files are served by the API instead).
    - `check()` raises StorageError when the store cannot be written right now.
    - `put_many(items, durable=False)` stores each object atomically but may leave them to be
      lost by a crash until `sync()` returns; `sync()` makes every such put durable, whichever
      process of the same store made it. Stores whose puts are durable anyway ignore both.
    - `shareable` is True when a pickled copy of the store, in another process, reads and
      writes the same objects (worker processes may then store files themselves).
    - `cleanup_temp(max_age_seconds)` removes what puts cut short by a crash left behind (never an
      object), if older than max_age_seconds, and returns how many; with dry_run=True it only
      counts them. Stores that leave nothing behind return 0.
    Every other failure is raised as StorageError, never as a vendor exception: StorageFull when
    the store has no room left, StorageReadOnly when it refuses writes, the plain StorageError
    when it cannot be reached or fails otherwise.
    """

    kind: str = "abstract"
    shareable: bool = False

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store data under key atomically."""

    def put_many(self, items: Sequence[tuple[str, bytes]], *, durable: bool = True) -> None:  # noqa: ARG002
        """Store several objects, each atomically; all are durable when this returns.

        With durable=False they may be lost by a crash until `sync()` returns. Stores that
        can flush many writes at once (the local one) override this. A bad key anywhere
        raises ValueError before anything is stored.
        """
        for key, _ in items:
            validate_key(key)
        for key, data in items:
            self.put(key, data)

    def sync(self) -> None:  # noqa: B027 (stores whose puts are durable have nothing to do)
        """Make every `put_many(..., durable=False)` so far durable (any process's)."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open the object for reading."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """True when an object has that key."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object if present."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under prefix."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise StorageError if the store is not writable."""

    def url_for(self, key: str, expires: int = 3600) -> str | None:  # noqa: ARG002
        """A direct download URL, if the store can give one."""
        validate_key(key)
        return None

    def cleanup_temp(
        self,
        max_age_seconds: float = 3600,  # noqa: ARG002
        *,
        dry_run: bool = False,  # noqa: ARG002
    ) -> int:
        """Remove (or with dry_run count) leftovers of crashed puts older than max_age_seconds."""
        return 0

    def locate(self, key: str) -> str:
        """Where a person can find the object outside PromptCanvas (a path, an s3:// URL)."""
        validate_key(key)
        return key

    def read(self, key: str) -> bytes:
        """Read a whole object."""
        with self.open(key) as stream:
            return stream.read()


class MemoryStorage(Storage):
    """In-memory storage for unit tests; follows the contract above."""

    kind = "memory"

    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, datetime]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes) -> None:
        """Store data under key."""
        validate_key(key)
        with self._lock:
            self._objects[key] = (bytes(data), datetime.now(UTC))

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading."""
        validate_key(key)
        with self._lock:
            if key not in self._objects:
                raise ObjectNotFound(key)
            return io.BytesIO(self._objects[key][0])

    def exists(self, key: str) -> bool:
        """True when an object has that key."""
        validate_key(key)
        return key in self._objects

    def delete(self, key: str) -> None:
        """Remove the object if present."""
        validate_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under prefix."""
        with self._lock:
            items = list(self._objects.items())
        for key, (data, modified) in items:
            if key.startswith(prefix):
                yield ObjectInfo(key, len(data), modified)

    def check(self) -> None:
        """Memory is always writable."""


def validate_key(key: str) -> None:
    """Raise ValueError for keys outside the contract (absolute, '..', odd characters)."""
    if not key or key.startswith("/") or len(key) > 512:
        raise ValueError(f"bad storage key: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not all(c.isalnum() or c in "._-" for c in segment):
            raise ValueError(f"bad storage key: {key!r}")
        if not segment.isascii():
            raise ValueError(f"bad storage key: {key!r}")
