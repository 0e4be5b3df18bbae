"""One import run: chunks of files pipelined through read, thumbnail, store and record.

While chunk N is being read and checked on the I/O threads, the thumbnails of chunk N-1 are
made in worker processes (which read the files themselves) and its files written to the
store; then chunk N-1 is recorded.
Files are always stored before the transaction that records them (a crash in between leaves
only orphans for the sweeper), and chunks are recorded in order.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
import zlib
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from promptcanvas.domain.assets import thumbnail_key
from promptcanvas.domain.errors import StorageUnavailable, UnsupportedMedia
from promptcanvas.domain.ids import new_id
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.imports import FAILED, FileState, ImportUowFactory
from promptcanvas.ports.storage import Storage, StorageError
from promptcanvas.services.assets import write_refused
from promptcanvas.services.import_media import (
    CHANGED,
    TRUNCATED,
    Rejected,
    Thumb,
    Thumbnailer,
    check_image,
    make_thumbnail,
    sniff,
)
from promptcanvas.services.import_scan import MAGIC_BYTES, Entry, FolderSource, Source
from promptcanvas.services.import_summary import Tally
from promptcanvas.services.import_write import ChunkWriter, ImportOptions, Loaded
from promptcanvas.services.metadata.reader import read_metadata
from promptcanvas.services.metadata.record import GenerationMetadata

log = logging.getLogger(__name__)

IO_THREADS = 4  # reads, hashing and fsyncs release the GIL (8 threads only fought over it)
THUMB_GROUP = 8  # files per thumbnail task (a chunk's ~100 files keep two workers even)


def path_key(key: str) -> str:
    """The indexed form of a source key (paths may be longer than an index entry)."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True, slots=True)
class Failed:
    """A file that is reported and skipped, with why."""

    entry: Entry
    reason: str
    sha: str | None = None
    record: bool = True  # False for problems that may pass (a file that could not be opened)


@dataclass(frozen=True)
class _Read:
    """A chunk read: files settled without reading (state, name, reason), and the rest loaded."""

    keys: dict[str, str]
    settled: list[tuple[str, str, str | None]]
    results: list[Loaded | Failed | None]


@dataclass
class _Batch:
    """A chunk between reading and recording."""

    keys: dict[str, str]
    fresh: list[Loaded]
    duplicates: list[Loaded]
    failed: list[Failed]
    thumbs: list[Future[list[Thumb]]] = field(default_factory=list)  # THUMB_GROUP files each
    stored: Future[None] | None = None  # the chunk's new files being stored
    thumb_files: list[tuple[str, bytes]] = field(default_factory=list)  # to store: key, bytes


@dataclass(frozen=True)
class Limits:
    """What the run may read."""

    max_pixels: int
    max_file_bytes: int


class ImportRun:
    """One import in progress: settles chunks of entries and counts what happened."""

    def __init__(
        self,
        uow: ImportUowFactory,
        storage: Storage,
        clock: Clock,
        limits: Limits,
        owner_id: str,
        source: Source,
        options: ImportOptions,
        thumbnailer: Thumbnailer,
    ) -> None:
        self.uow = uow
        self.storage = storage
        self.clock = clock
        self.limits = limits
        self.owner_id = owner_id
        self.source = source
        self.options = options
        self.run_id = options.run_id or new_id()
        self.tally = Tally(self.run_id, source.label, options.thumbnails)
        self.io = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="import-io")
        # A chunk's files are written and flushed on a thread of their own while the next
        # chunk is read. (Measured: it did not raise the metadata-only rate, which stays bound
        # by this process's GIL; it keeps the flush from blocking the thread that reads.)
        self.store = ThreadPoolExecutor(1, thread_name_prefix="import-store")
        self.thumbnailer = thumbnailer
        self.writer = ChunkWriter(uow, clock, owner_id, self.run_id, options)
        self._restores: list[Future[None]] = []
        # Thumbnail workers read folder files themselves (not zip members: those are in memory).
        self._by_path = isinstance(source, FolderSource) and options.thumbnails

    def process(self, entries: Sequence[Entry]) -> None:
        """Settle these files (one chunk, start to end): skip, import, or report each one."""
        self.finish(self.start(entries))

    def start(self, entries: Sequence[Entry]) -> _Batch:
        """Read and check a chunk, then start storing it (and making its thumbnails)."""
        return self.prepare(self.read(entries))

    def read(self, entries: Sequence[Entry]) -> _Read:
        """Decide which files need reading, and read, hash and parse them (no counting yet)."""
        keys = {e.key: path_key(e.key) for e in entries}
        settled: list[tuple[str, str, str | None]]
        settled = [(FAILED, e.name, e.problem) for e in entries if e.problem]
        entries = [e for e in entries if not e.problem]
        with self.uow(write=False) as uow:
            seen = uow.imports.seen(self.owner_id, [keys[e.key] for e in entries])
        todo = []
        for e in entries:
            state = seen.get(keys[e.key])
            if state is None or (state.size, state.mtime_ns) != (e.size, e.mtime_ns):
                todo.append(e)
            elif state.run_id == self.run_id or state.state == FAILED:
                # Settled by this run before a crash, or failing still: count it as it was.
                settled.append((state.state, e.name, state.reason))
            else:
                settled.append(("unchanged", e.name, None))
        return _Read(keys, settled, list(self.io.map(self._load, todo)))

    def prepare(self, read: _Read) -> _Batch:
        """Count what was settled unread, split new bytes from duplicates, start thumbnails."""
        for state, name, reason in read.settled:
            self.tally.add(state, name, reason)
        loaded: list[Loaded] = []
        failed: list[Failed] = []
        for result in read.results:
            if result is None:
                self.tally.add("ignored", "")
            elif isinstance(result, Failed):
                failed.append(result)
            else:
                loaded.append(result)
        fresh, duplicates = self.writer.split(loaded)
        batch = _Batch(read.keys, fresh, duplicates, failed)
        if fresh:
            batch.stored = self.store.submit(self._put_many, [(x.asset_key, x.data) for x in fresh])
        if self.options.thumbnails:
            for i in range(0, len(fresh), THUMB_GROUP):
                group = [
                    (x.entry.key if self._by_path else None, x.data, x.sha)
                    for x in fresh[i : i + THUMB_GROUP]
                ]
                batch.thumbs.append(self.thumbnailer.submit_group(group))
        return batch

    def _thumbs(self, batch: _Batch) -> list[Thumb]:
        """The chunk's thumbnails, in the order of batch.fresh."""
        made: list[Thumb] = []
        size = self.thumbnailer.size
        for i, future in enumerate(batch.thumbs):
            group = batch.fresh[i * THUMB_GROUP : (i + 1) * THUMB_GROUP]
            try:
                thumbs = future.result()
            except BrokenExecutor:  # a worker process died: make these here
                thumbs = [make_thumbnail(x.data, size) for x in group]
            # A file changed after we read it: the thumbnail is made from the bytes we store.
            made += [
                make_thumbnail(x.data, size) if t.error == CHANGED else t
                for x, t in zip(group, thumbs, strict=True)
            ]
        return made

    def finish(self, batch: _Batch) -> None:
        """Wait for the chunk's files to be stored, then record it in one transaction."""
        fresh, duplicates, failed = batch.fresh, batch.duplicates, batch.failed
        if batch.thumbs:
            broken: dict[str, str] = {}
            for x, thumb in zip(fresh, self._thumbs(batch), strict=True):
                if thumb.data is None:
                    broken[x.sha] = thumb.error or "truncated or corrupt"
                    continue
                x.thumb, x.phash = thumb.data, thumb.phash
                x.thumb_key = thumbnail_key(x.sha, thumb.media_type)
                if thumb.swapped:
                    x.header = x.header.swapped()
                batch.thumb_files.append((x.thumb_key, thumb.data))
            # Pixels that do not decode fail the file, and every copy of it in this chunk. Its
            # bytes were stored already (while this chunk's thumbnails were made): unrecorded,
            # they are the orphan sweeper's (not deleted here: a blob may be another's too).
            failed = failed + [
                Failed(x.entry, broken[x.sha], x.sha) for x in fresh + duplicates if x.sha in broken
            ]
            fresh = [x for x in fresh if x.sha not in broken]
            duplicates = [x for x in duplicates if x.sha not in broken]
            self.writer.release(list(broken))
        # One durable batch write per chunk (a single filesystem flush on local storage).
        # StorageUnavailable: the run stops, nothing of this chunk recorded.
        self._put_many(batch.thumb_files)
        if batch.stored is not None:
            batch.stored.result()
        states = [self._failed_state(f, batch.keys[f.entry.key]) for f in failed if f.record]
        written = self.writer.write(fresh, duplicates, states, batch.keys)
        for x, outcome in written:
            self.tally.add(outcome, x.entry.name, TRUNCATED if outcome == FAILED else None)
        for f in failed:
            self.tally.add(FAILED, f.entry.name, f.reason)
        self._restores += [self.io.submit(self._restore, x) for x in fresh]

    def close(self) -> None:
        """Stop the threads (pending reads are cancelled; nothing unrecorded is lost)."""
        self.io.shutdown(wait=True, cancel_futures=True)
        self.store.shutdown(wait=True, cancel_futures=True)

    def drain(self) -> None:
        """Wait for the post-commit checks of every recorded chunk."""
        for future in self._restores:
            try:
                future.result()
            except StorageUnavailable:
                log.error("a file could not be put back after the orphan sweeper took it")
        self._restores.clear()

    def _load(self, e: Entry) -> Loaded | Failed | None:
        """Read, check, hash and parse one file (on an I/O thread); None: not an image."""
        limit = self.limits.max_file_bytes
        try:
            if not e.looks_like_image and sniff(self.source.read(e, MAGIC_BYTES - 1)) is None:
                return None
            if e.size > limit:
                return Failed(e, f"larger than {limit:,} bytes")
            data = self.source.read(e, limit)
        except OSError as exc:
            return Failed(e, f"cannot be read: {exc.strerror or exc}", record=False)
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError):
            return Failed(e, "corrupt zip member")
        if len(data) > limit:
            return Failed(e, f"larger than {limit:,} bytes")
        sha = hashlib.sha256(data).hexdigest() if data else None
        try:
            header = check_image(data, max_pixels=self.limits.max_pixels)
        except Rejected as exc:
            return Failed(e, str(exc), sha)
        assert sha is not None
        error = None
        try:
            meta = read_metadata(data, max_pixels=self.limits.max_pixels)
        except UnsupportedMedia as exc:
            meta, error = GenerationMetadata(), exc.message
        except Exception as exc:  # a reader bug must not keep the image out of the library
            log.exception("reading the metadata of %s failed", e.name)
            meta, error = GenerationMetadata(), f"{type(exc).__name__}: {exc}"
        return Loaded.of(e, data, sha, header, meta, error, self.clock.now())

    def _restore(self, x: Loaded) -> None:
        """Put back files the orphan sweeper took between our put and our commit."""
        for key, data in ((x.asset_key, x.data), (x.thumb_key, x.thumb)):
            if data is not None and not self.storage.exists(key):
                self._put(key, data)

    def _put(self, key: str, data: bytes) -> None:
        self._put_many([(key, data)])

    def _put_many(self, files: list[tuple[str, bytes]]) -> None:
        try:
            self.storage.put_many(files)
        except StorageError as exc:
            log.error("storage write failed for %s: %s", files[0][0] if files else "-", exc)
            raise write_refused(exc) from None

    def _failed_state(self, f: Failed, key: str) -> FileState:
        return FileState(
            owner_id=self.owner_id,
            path_key=key,
            path=f.entry.key,
            size=f.entry.size,
            mtime_ns=f.entry.mtime_ns,
            state=FAILED,
            run_id=self.run_id,
            updated_at=self.clock.now(),
            sha256=f.sha,
            reason=f.reason[:200],
        )
