"""One import run: chunks of files pipelined through load, thumbnail, store and record.

Big folder imports on a local store: worker processes load, thumbnail and store chunks ahead
(import_load.py) while this process records the chunks before them, flushing the store first.
Otherwise: while chunk N is read and checked on the I/O threads, the thumbnails of chunk N-1
are made (in worker processes for big runs) and its files written to the store; then chunk
N-1 is recorded. Either way files are stored and flushed before the transaction that records
them (a crash in between leaves only orphans for the sweeper), and chunks are recorded in order.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from promptcanvas.domain.errors import StorageUnavailable
from promptcanvas.domain.ids import new_id
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.imports import FAILED, FileState, ImportUowFactory
from promptcanvas.ports.storage import Storage, StorageError
from promptcanvas.services.assets import write_refused
from promptcanvas.services.import_load import (
    Failed,
    Limits,
    LoadPool,
    Result,
    Thumbnailer,
    load_file,
)
from promptcanvas.services.import_media import TRUNCATED, Thumb, make_thumbnail, remake_thumbnail
from promptcanvas.services.import_scan import Entry, Source
from promptcanvas.services.import_summary import Tally
from promptcanvas.services.import_write import ChunkWriter, ImportOptions, Loaded

log = logging.getLogger(__name__)

IO_THREADS = 4  # reads, hashing and fsyncs release the GIL (8 threads only fought over it)
THUMB_GROUP = 8  # files per thumbnail task (a chunk's ~100 files keep two workers even)
LOAD_GROUP = 25  # files per loader task: few results to unpickle, workers kept even
LOOKAHEAD = 2  # chunks a loader pool works on ahead of the chunk being recorded


def path_key(key: str) -> str:
    """The indexed form of a source key (paths may be longer than an index entry)."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class ChunkLoad:
    """A chunk read: files settled without reading (state, name, reason), and the rest loaded."""

    keys: dict[str, str]
    settled: list[tuple[str, str, str | None]]
    groups: list[tuple[list[Entry], Future[list[Result]]]]  # being loaded (or loaded)


@dataclass
class ChunkBatch:
    """A chunk between reading and recording."""

    keys: dict[str, str]
    fresh: list[Loaded]
    duplicates: list[Loaded]
    failed: list[Failed]
    unstored: list[Loaded] = field(default_factory=list)  # fresh files this process stores
    thumbs: list[Future[list[Thumb]]] = field(default_factory=list)  # THUMB_GROUP files each
    stored: Future[None] | None = None  # its files being stored, workers' writes flushed
    thumb_files: list[tuple[str, bytes]] = field(default_factory=list)  # to store: key, bytes


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
        loader: LoadPool | None = None,
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
        # chunk is read (it keeps the flush from blocking the thread that reads).
        self.store = ThreadPoolExecutor(1, thread_name_prefix="import-store")
        self.thumbnailer = thumbnailer
        self.loader = loader  # worker processes that load and store whole files
        self.lookahead = LOOKAHEAD if loader is not None else 0
        self.writer = ChunkWriter(uow, clock, owner_id, self.run_id, options)
        self._restores: list[Future[None]] = []

    def process(self, entries: Sequence[Entry]) -> None:
        """Settle these files (one chunk, start to end): skip, import, or report each one."""
        self.finish(self.start(entries))

    def start(self, entries: Sequence[Entry]) -> ChunkBatch:
        """Read and check a chunk, then start storing it (and making its thumbnails)."""
        return self.prepare(self.read(entries))

    def read(self, entries: Sequence[Entry]) -> ChunkLoad:
        """Decide which files need loading, and load them (or start to, in the loader pool)."""
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
        # Start the disk reading them now: a chunk is read ahead of the one being recorded, so
        # a folder not in the system's cache arrives while earlier files are worked on.
        self.source.prefetch(todo)
        if self.loader is None:
            done: Future[list[Result]] = Future()
            done.set_result(list(self.io.map(self._load, todo)))
            return ChunkLoad(keys, settled, [(todo, done)])
        size = self.thumbnailer.size if self.options.thumbnails else None
        now = self.clock.now()
        groups = [todo[i : i + LOAD_GROUP] for i in range(0, len(todo), LOAD_GROUP)]
        return ChunkLoad(
            keys,
            settled,
            [(g, self.loader.submit(self.source, g, self.limits, size, now)) for g in groups],
        )

    def _results(self, group: list[Entry], future: Future[list[Result]]) -> list[Result]:
        """A group's loaded files; loaded here instead if the worker processes died."""
        try:
            return future.result()
        except BrokenExecutor:
            if self.loader is not None:
                log.error("import workers died; the run goes on in this process")
                self.loader = None  # later chunks are read here (the session closes the pool)
            return list(self.io.map(self._load, group))
        except StorageError as exc:  # a worker's store write failed: the run stops
            raise write_refused(exc) from None

    def prepare(self, read: ChunkLoad) -> ChunkBatch:
        """Count what was settled unread, split new bytes from duplicates, start thumbnails."""
        for state, name, reason in read.settled:
            self.tally.add(state, name, reason)
        loaded: list[Loaded] = []
        failed: list[Failed] = []
        for group, future in read.groups:
            for result in self._results(group, future):
                if result is None:
                    self.tally.add("ignored", "")
                elif isinstance(result, Failed):
                    failed.append(result)
                else:
                    loaded.append(result)
        fresh, duplicates = self.writer.split(loaded)
        batch = ChunkBatch(read.keys, fresh, duplicates, failed)
        batch.unstored = [x for x in fresh if x.data is not None]
        files = [(x.asset_key, x.data) for x in batch.unstored if x.data]
        flush = any(x.data is None for x in loaded)  # workers stored some of its files
        if files or flush:
            batch.stored = self.store.submit(self._store_chunk, files, flush)
        if self.options.thumbnails:
            for i in range(0, len(batch.unstored), THUMB_GROUP):
                images = [x.data for x in batch.unstored[i : i + THUMB_GROUP] if x.data]
                batch.thumbs.append(self.thumbnailer.submit_group(images))
        return batch

    def _thumbs(self, batch: ChunkBatch) -> list[Thumb]:
        """The thumbnails of the chunk's files this process stores, in order."""
        made: list[Thumb] = []
        size = self.thumbnailer.size
        for i, future in enumerate(batch.thumbs):
            group = batch.unstored[i * THUMB_GROUP : (i + 1) * THUMB_GROUP]
            try:
                made += future.result()
            except BrokenExecutor:  # a worker process died: make these here
                made += [make_thumbnail(x.data or b"", size) for x in group]
        return made

    def finish(self, batch: ChunkBatch) -> None:
        """Wait for the chunk's files to be stored, then record it in one transaction."""
        fresh, duplicates, failed = batch.fresh, batch.duplicates, batch.failed
        if batch.thumbs:
            broken: dict[str, str] = {}
            for x, thumb in zip(batch.unstored, self._thumbs(batch), strict=True):
                if thumb.data is None:
                    broken[x.sha] = thumb.error or TRUNCATED
                    continue
                x.thumb = thumb.data
                batch.thumb_files.append((x.add_thumbnail(thumb), thumb.data))
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
        if fresh:
            self._restores.append(self.io.submit(self._restore_all, fresh))

    def close(self) -> None:
        """Stop the threads (pending reads are cancelled; nothing unrecorded is lost)."""
        self.io.shutdown(wait=True, cancel_futures=True)
        self.store.shutdown(wait=True, cancel_futures=True)

    def drain(self) -> None:
        """Wait for the post-commit checks of every recorded chunk."""
        for future in self._restores:
            future.result()
        self._restores.clear()

    def _load(self, e: Entry) -> Result:
        """Read, check, hash and parse one file (on an I/O thread); None: not an image."""
        return load_file(self.source, e, self.limits, self.clock.now())

    def _restore_all(self, recorded: list[Loaded]) -> None:
        """After a chunk's commit (one I/O-thread task per chunk, not per file)."""
        for x in recorded:
            try:
                self._restore(x)
            except StorageUnavailable:
                log.error("%s could not be put back after the orphan sweeper took it", x.entry.name)

    def _restore(self, x: Loaded) -> None:
        """Put back files the orphan sweeper took between our put and our commit."""
        missing = [
            key for key in (x.asset_key, x.thumb_key) if key and not self.storage.exists(key)
        ]
        if not missing:
            return
        data = x.data
        if data is None:  # a worker stored it: read the file again
            again = self._load(x.entry)
            if not isinstance(again, Loaded) or again.sha != x.sha:
                log.error("%s changed before it could be put back in the store", x.entry.name)
                return
            data = again.data
        assert data is not None
        for key in missing:
            if key == x.asset_key:
                self._put(key, data)
                continue
            try:
                thumb = x.thumb or remake_thumbnail(data, self.thumbnailer.size, key)
            except ValueError:
                log.error("the thumbnail of %s could not be made again", x.entry.name)
                continue
            self._put(key, thumb)

    def _put(self, key: str, data: bytes) -> None:
        self._put_many([(key, data)])

    def _put_many(self, files: list[tuple[str, bytes]]) -> None:
        try:
            self.storage.put_many(files)
        except StorageError as exc:
            log.error("storage write failed for %s: %s", files[0][0] if files else "-", exc)
            raise write_refused(exc) from None

    def _store_chunk(self, files: list[tuple[str, bytes]], flush: bool) -> None:
        """Store the chunk's files this process holds; with flush, make what the workers
        stored durable too (on the store thread, while the chunk before is recorded)."""
        try:
            if files:
                self.storage.put_many(files, durable=not flush)
            if flush:
                self.storage.sync()
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
