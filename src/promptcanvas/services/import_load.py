"""Loading import files: read, check, hash and parse one file, here or in worker processes.

A small import (or a zip) loads files on the importing process's I/O threads, which hand the
bytes on to be thumbnailed and stored. A big folder import on a store that other processes
can write (the local one) gives each file's whole work to a pool of worker processes: read,
check, hash, parse, thumbnail, and write the file and its thumbnail into the store, unflushed.
The importing process then only records; the bytes never cross a pipe, and it flushes the
store once per chunk, before the chunk's transaction. One process cannot go faster: hashing,
parsing and the store's page copies share its GIL (measured in bench/FINDINGS.md).

Other big runs (zips, stores only this process writes, thumbnail backfills) make thumbnails in
a `Thumbnailer`'s workers. Both pools start their workers from the same fork server.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.ports.storage import Storage
from promptcanvas.services.import_media import (
    TRUNCATED,
    Rejected,
    Thumb,
    check_image,
    make_thumbnail,
    sniff,
)
from promptcanvas.services.import_scan import MAGIC_BYTES, Entry, Source
from promptcanvas.services.import_write import Loaded
from promptcanvas.services.metadata.reader import read
from promptcanvas.services.metadata.record import GenerationMetadata

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """What a run may read."""

    max_pixels: int
    max_file_bytes: int


@dataclass(frozen=True, slots=True)
class Failed:
    """A file that is reported and skipped, with why."""

    entry: Entry
    reason: str
    sha: str | None = None
    record: bool = True  # False for problems that may pass (a file that could not be opened)


Result = Loaded | Failed | None  # None: not an image (ignored)


def load_file(source: Source, e: Entry, limits: Limits, now: datetime) -> Result:
    """Read, check, hash and parse one file; never raises for the file's own problems."""
    limit = limits.max_file_bytes
    try:
        if not e.looks_like_image and sniff(source.read(e, MAGIC_BYTES - 1)) is None:
            return None
        if e.size > limit:
            return Failed(e, f"larger than {limit:,} bytes")
        data = source.read(e, limit)
    except OSError as exc:
        return Failed(e, f"cannot be read: {exc.strerror or exc}", record=False)
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError):
        return Failed(e, "corrupt zip member")
    if len(data) > limit:
        return Failed(e, f"larger than {limit:,} bytes")
    sha = hashlib.sha256(data).hexdigest() if data else None
    try:
        header, carriers = check_image(data, max_pixels=limits.max_pixels)
    except Rejected as exc:
        return Failed(e, str(exc), sha)
    assert sha is not None
    error = None
    try:
        meta = read(data, max_pixels=limits.max_pixels, carriers=carriers).metadata
    except UnsupportedMedia as exc:
        meta, error = GenerationMetadata(), exc.message
    except Exception as exc:  # a reader bug must not keep the image out of the library
        log.exception("reading the metadata of %s failed", e.name)
        meta, error = GenerationMetadata(), f"{type(exc).__name__}: {exc}"
    return Loaded.of(e, data, sha, header, meta, error, now)


def init_worker(parent: int) -> None:
    """Pool workers end when the importing process (`parent`) dies (even by SIGKILL), and skip
    full GCs.

    Freezing what the imports made (25k+ objects) keeps collections from walking them again
    and again: they took 6% of a worker's time.
    """
    gc.freeze()
    # A spawned worker's parent is the importing process. A fork server's worker's parent is
    # the server, which outlives the importing process while any worker lives: so the worker
    # also watches the importing process itself.
    start_parent = os.getppid()

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def watch() -> None:
        while os.getppid() == start_parent and alive(parent):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_STORAGE: Storage | None = None  # a worker process's own handle on the store


def _init_loader(importer: int, storage: Storage) -> None:
    global _STORAGE
    _STORAGE = storage
    init_worker(importer)


def _context() -> multiprocessing.context.BaseContext:
    """A fork server where there is one (Linux), else spawn (forking a threaded process is not
    safe). The server imports this module once and each worker is a fork of it: a worker starts
    in ~10 ms instead of importing the loader's modules (0.35 s) itself. (Workers still import
    the program's main script: hence the console script's light launcher.)
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # used when the server starts
    return context


def make_thumbnails(images: Sequence[bytes], size: int) -> list[Thumb]:
    """A thumbnail of each image."""
    return [make_thumbnail(data, size) for data in images]


class Thumbnailer:
    """Makes thumbnails in this process, or in a pool of worker processes for large imports."""

    def __init__(self, size: int, *, processes: int) -> None:
        self.size = size
        self.processes = processes
        self._pool: Executor | None = None

    def start_pool(self) -> None:
        """Start worker processes (as the loader pool's are: see `_context`).

        Not in a daemonic process (a Celery worker's): it may not have children, so it makes
        thumbnails itself.
        """
        if (
            self._pool is None
            and self.processes > 0
            and not multiprocessing.current_process().daemon
        ):
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=_context(),
                initializer=init_worker,
                initargs=(os.getpid(),),
            )

    def make(self, images: Sequence[bytes]) -> list[Thumb]:
        """One thumbnail per image, in order."""
        return [future.result() for future in [self.submit(data) for data in images]]

    def submit(self, image: bytes) -> Future[Thumb]:
        """A thumbnail being made (in this thread when there is no pool)."""
        return self._run(make_thumbnail, image, self.size)

    def submit_group(self, images: Sequence[bytes]) -> Future[list[Thumb]]:
        """Thumbnails of several images as one task (one result, not one per image)."""
        return self._run(make_thumbnails, images, self.size)

    def _run(self, work: Callable[..., T], *args: object) -> Future[T]:
        if self._pool is not None:
            try:
                return self._pool.submit(work, *args)
            except BrokenExecutor:
                log.error("thumbnail workers died; making thumbnails in this process")
                self._pool = None
        done: Future[T] = Future()
        done.set_result(work(*args))
        return done

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def load_and_store(
    source: Source, entries: Sequence[Entry], limits: Limits, thumb_size: int | None, now: datetime
) -> list[Result]:
    """In a worker: load each file, thumbnail it, and store both (unflushed); bytes dropped.

    A file whose pixels do not decode fails here and is not stored. StorageError propagates:
    the importing process stops the run, as when its own write fails.
    """
    assert _STORAGE is not None, "load_and_store runs in a loader pool worker"
    results: list[Result] = []
    puts: list[tuple[str, bytes]] = []
    for e in entries:
        x = load_file(source, e, limits, now)
        if isinstance(x, Loaded):
            assert x.data is not None
            if thumb_size is not None:
                thumb = make_thumbnail(x.data, thumb_size)
                if thumb.data is None:
                    results.append(Failed(e, thumb.error or TRUNCATED, x.sha))
                    continue
                puts.append((x.add_thumbnail(thumb), thumb.data))
            puts.append((x.asset_key, x.data))
            x.data = None
        results.append(x)
    _STORAGE.put_many(puts, durable=False)
    return results


class LoadPool:
    """Worker processes that load and store a folder's files, a group per task.

    Each gets its own copy of the store. Not for daemonic processes (a Celery worker's), which
    may not have children.
    """

    def __init__(self, processes: int, storage: Storage) -> None:
        self._pool = ProcessPoolExecutor(
            processes,
            mp_context=_context(),
            initializer=_init_loader,
            initargs=(os.getpid(), storage),
        )

    @staticmethod
    def usable(storage: Storage) -> bool:
        """True when workers can store files themselves and this process may have children."""
        return storage.shareable and not multiprocessing.current_process().daemon

    def submit(
        self,
        source: Source,
        entries: Sequence[Entry],
        limits: Limits,
        thumb_size: int | None,
        now: datetime,
    ) -> Future[list[Result]]:
        """The group being loaded; its result raises BrokenExecutor if the pool died."""
        try:
            return self._pool.submit(load_and_store, source, entries, limits, thumb_size, now)
        except BrokenExecutor as exc:
            failed: Future[list[Result]] = Future()
            failed.set_exception(exc)
            return failed

    def close(self) -> None:
        """Stop the workers (queued groups are cancelled; what they stored is unrecorded)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
