"""Storage on a local filesystem: one file per key under a root directory."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from promptcanvas.ports.storage import (
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    StorageFull,
    StorageReadOnly,
    validate_key,
)

# Temp files live under the root so that os.replace never crosses a filesystem.
_TMP = ".tmp"
_MISSING = (FileNotFoundError, NotADirectoryError)
# Linux's syncfs(2) flushes one filesystem: a batch of writes made durable with one call
# instead of two fsyncs per file. Elsewhere put_many falls back to one put per object.
_LIBC = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None
_SYNCFS = getattr(_LIBC, "syncfs", None)
# Linux: a file made nameless in its folder (O_TMPFILE) and linked into place once written
# appears whole or not at all, like a temp file renamed, for one directory change instead of
# three (create, rename out, rename in): ~0.14 ms less kernel time per file here. os.link
# cannot follow /proc/self/fd links, hence linkat. A crash leaves nothing behind.
_LINKAT = getattr(_LIBC, "linkat", None)
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_AT_FDCWD, _AT_SYMLINK_FOLLOW = -100, 0x400


class LocalStorage(Storage):
    """Objects as files under root; a put writes root/.tmp/<random> and renames it into place."""

    kind = "local"
    shareable = True  # another process writes the same files

    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()
        self._tmp = self._root / _TMP
        self._safe_folders: set[str] = set()  # key folders found to be real folders in the root
        self._nameless = _LINKAT is not None and _O_TMPFILE != 0  # see _link_nameless

    def __repr__(self) -> str:
        return f"LocalStorage({str(self._root)!r})"

    def __reduce__(self) -> tuple[type[LocalStorage], tuple[Path]]:
        # A copy for a worker process: the root only (it finds safe folders itself).
        return (LocalStorage, (self._root,))

    def put(self, key: str, data: bytes) -> None:
        """Store data under key atomically and durably."""
        path = self._path(key)
        try:
            if _refresh(path, len(data)):
                return
            _make_dirs(path.parent)
            self._tmp.mkdir(exist_ok=True)
            temp = self._tmp / f"{uuid.uuid4().hex}.part"
            _write_synced(temp, data)
            try:
                os.replace(temp, path)
            except Exception:
                # Only ordinary errors clean up here: if the process is going down
                # (BaseException), the temp file is left for cleanup_temp, as after a crash.
                _unlink_quietly(temp)
                raise
            _fsync_dir(path.parent)
        except OSError as exc:
            raise self._error(f"cannot store {key!r}", exc, write=True) from exc

    def put_many(self, items: Sequence[tuple[str, bytes]], *, durable: bool = True) -> None:
        """Write every object into place, then make them all durable with one syncfs.

        Each object still appears atomically (written aside, then renamed). Until the flush
        returns, a power cut may leave some of them empty or missing; callers record the
        objects (commit) only after this returns, and a later put rewrites an object whose
        size is wrong. With durable=False the flush is left to a later `sync()`.
        """
        if _SYNCFS is None or (durable and len(items) < 2):
            super().put_many(items)  # one durable put each (without syncfs, sync() cannot)
            return
        paths = [(key, self._path(key), data) for key, data in items]
        try:
            _make_dirs(self._tmp, sync=False)
            for key, path, data in paths:
                if _refresh(path, len(data)):
                    continue
                if key.rpartition("/")[0] not in self._safe_folders:  # else known to exist
                    _make_dirs(path.parent, sync=False)
                if self._nameless and self._link_nameless(path, data):
                    continue
                temp = self._tmp / f"{uuid.uuid4().hex}.part"
                _write_unsynced(temp, data)
                try:
                    os.replace(temp, path)
                except Exception:
                    _unlink_quietly(temp)
                    raise
            if durable:
                _syncfs(self._root)
        except OSError as exc:
            raise self._error(f"cannot store {len(items)} objects", exc, write=True) from exc

    def _link_nameless(self, path: Path, data: bytes) -> bool:
        """Write data to a nameless file in path's folder and link it in; False: not done.

        Not done when the object exists (it is then replaced the usual way) or the system
        cannot (no O_TMPFILE on this filesystem, no /proc): then, never again for this store.
        """
        assert _LINKAT is not None
        try:
            fd = os.open(path.parent, os.O_WRONLY | _O_TMPFILE | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                self._nameless = False
                return False
            raise
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            linked = _LINKAT(
                _AT_FDCWD,
                f"/proc/self/fd/{fd}".encode(),
                _AT_FDCWD,
                os.fsencode(path),
                _AT_SYMLINK_FOLLOW,
            )
            if linked != 0:
                code = ctypes.get_errno()
                if code == errno.EEXIST:
                    return False
                if code in (errno.ENOENT, errno.EXDEV, errno.EPERM):  # no /proc, odd mounts
                    self._nameless = False
                    return False
                raise OSError(code, os.strerror(code))
            return True
        finally:
            os.close(fd)

    def sync(self) -> None:
        """Flush the filesystem: every object written so far, by any process, is durable."""
        if _SYNCFS is None:
            return  # put_many wrote each object durably
        try:
            _syncfs(self._root)
        except OSError as exc:
            raise self._error("cannot flush the store", exc, write=True) from exc

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading."""
        path = self._path(key)
        try:
            return path.open("rb")
        except (*_MISSING, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise self._error(f"cannot read {key!r}", exc) from exc

    def exists(self, key: str) -> bool:
        """True when an object has that key."""
        path = self._path(key)
        try:
            return stat.S_ISREG(path.stat().st_mode)
        except _MISSING:
            return False
        except OSError as exc:
            raise self._error(f"cannot stat {key!r}", exc) from exc

    def delete(self, key: str) -> None:
        """Remove the object if present."""
        path = self._path(key)
        try:
            path.unlink()
        except (*_MISSING, IsADirectoryError):
            return
        except OSError as exc:
            raise self._error(f"cannot delete {key!r}", exc, write=True) from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under prefix (temp files excluded)."""
        directory = prefix.rpartition("/")[0]
        start = self._root
        if directory:
            try:
                start = self._path(directory)
            except ValueError:
                return  # no valid key can start with this prefix
        try:
            yield from _walk(start, directory, prefix)
        except OSError as exc:
            raise self._error(f"cannot list {prefix!r}", exc) from exc

    def check(self) -> None:
        """Write, sync and remove a probe file; StorageError says why that failed."""
        probe = self._tmp / f"check-{uuid.uuid4().hex}.probe"
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            _write_synced(probe, b"ok")
            probe.unlink()
        except OSError as exc:
            _unlink_quietly(probe)
            raise self._error("not writable", exc, write=True) from exc

    def url_for(self, key: str, expires: int = 3600) -> str | None:  # noqa: ARG002
        """None: local files are served by the API, not by direct URL."""
        self._path(key)
        return None

    def locate(self, key: str) -> str:
        """The file's path."""
        return str(self._path(key))

    def cleanup_temp(self, max_age_seconds: float = 3600, *, dry_run: bool = False) -> int:
        """Remove (or with dry_run count) temp files left by crashed puts; returns how many."""
        cutoff = time.time() - max_age_seconds
        removed = 0
        try:
            with os.scandir(self._tmp) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                            if not dry_run:
                                os.unlink(entry.path)
                            removed += 1
                    except FileNotFoundError:
                        continue  # renamed into place or removed meanwhile
        except FileNotFoundError:
            return removed
        except OSError as exc:
            raise self._error("cannot clean temp files", exc) from exc
        return removed

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.split("/", 1)[0] == _TMP:
            raise ValueError(f"bad storage key: {key!r} ({_TMP} is reserved)")
        parent, _, name = key.rpartition("/")
        path = self._root / key
        # Valid keys cannot escape, but a symlink planted inside the root could. Folders are
        # checked once per storage object, one component at a time from the root (an import
        # asks for ~4 paths per file, and resolving each walked every component with a
        # syscall apiece); the last component, every time.
        if parent and parent not in self._safe_folders:
            self._check_folder(parent, key)
        if path.is_symlink() and not path.resolve().is_relative_to(self._root):
            raise self._outside(key)
        return path

    def _check_folder(self, folder: str, key: str) -> None:
        """Refuse a key folder that is, or is below, a symlink leading out of the root.

        A folder that does not exist yet passes (it is made as a real folder when written to)
        and is checked again next time; one that exists is remembered as safe.
        """
        up = folder.rpartition("/")[0]
        if up and up not in self._safe_folders:
            self._check_folder(up, key)
            if up not in self._safe_folders:
                return  # missing: so is everything below it
        path = self._root / folder
        try:
            info = path.lstat()
        except _MISSING:
            return
        if stat.S_ISLNK(info.st_mode) and not path.resolve().is_relative_to(self._root):
            raise self._outside(key)
        self._safe_folders.add(folder)

    def _outside(self, key: str) -> StorageError:
        return StorageError(f"local storage at {self._root}: {key!r} resolves outside the root")

    def _error(self, action: str, exc: OSError, *, write: bool = False) -> StorageError:
        """The port's error for an OSError: full, read-only (a refused write), or other."""
        kind: type[StorageError] = StorageError
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            kind, reason = StorageFull, "disk full"
        elif exc.errno == errno.EROFS:
            kind, reason = StorageReadOnly, "read-only filesystem"
        elif exc.errno in (errno.EACCES, errno.EPERM):
            kind, reason = (StorageReadOnly if write else StorageError), "permission denied"
        else:
            reason = exc.strerror or str(exc)
        return kind(f"local storage at {self._root}: {action}: {reason}")


def _walk(start: Path, base: str, prefix: str) -> Iterator[ObjectInfo]:
    """Objects below start whose key (base + relative path) starts with prefix."""
    pending = [(start, base)]
    while pending:
        directory, dir_key = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = [*scan]
        except _MISSING:
            continue
        for entry in entries:
            if not dir_key and entry.name == _TMP:
                continue
            key = f"{dir_key}/{entry.name}" if dir_key else entry.name
            if not key.startswith(prefix):
                continue  # only happens at the start level; deeper keys share its prefix
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append((Path(entry.path), key))
            elif stat.S_ISREG(info.st_mode) and _is_valid_key(key):
                yield ObjectInfo(key, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))


def _is_valid_key(key: str) -> bool:
    try:
        validate_key(key)
    except ValueError:
        return False
    return True


def _refresh(path: Path, size: int) -> bool:
    """Touch an existing object of the same size instead of rewriting it (keys are hashes)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            return False
        os.utime(path)
    except _MISSING:
        return False
    return True


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except Exception:
        _unlink_quietly(path)
        raise


def _write_unsynced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
    except Exception:
        _unlink_quietly(path)
        raise


def _syncfs(root: Path) -> None:
    assert _SYNCFS is not None
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if _SYNCFS(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    finally:
        os.close(fd)


def _make_dirs(directory: Path, *, sync: bool = True) -> None:
    """Create missing parents, syncing each new entry so a crash cannot lose a directory.

    With sync=False the caller flushes the whole filesystem afterwards instead.
    """
    missing: list[Path] = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:
            continue  # a concurrent put made it; if it is a file the rename reports that
        if sync:
            _fsync_dir(new.parent)


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":  # directories cannot be opened there; NTFS renames are journaled
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
