"""Importing past work: every image of a folder or zip becomes an asset and a generation.

A run settles files in chunks. Per chunk: files whose recorded size and modification time
match are skipped unread; the rest are read, hashed and parsed (the metadata reader looks at
headers only), thumbnailed and stored (files first; for a big folder import all of that in
worker processes, import_load.py), checked against bytes imported before, then recorded in
one transaction: new prompts, assets, generations and every file's state together. A run
killed at any point is resumed by running it again, with nothing imported twice. Chunks
overlap (import_run.py).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from promptcanvas.ports.clock import Clock
from promptcanvas.ports.imports import ImportUowFactory
from promptcanvas.ports.storage import Storage
from promptcanvas.services.import_load import Limits, LoadPool, Thumbnailer
from promptcanvas.services.import_run import IO_THREADS, ChunkBatch, ChunkLoad, ImportRun, path_key
from promptcanvas.services.import_scan import Entry, FolderSource, Source
from promptcanvas.services.import_summary import ImportSummary, Tally
from promptcanvas.services.import_write import ImportOptions

__all__ = ["CHUNK", "IO_THREADS", "ImportOptions", "ImportRun", "ImportService", "path_key"]

CHUNK = 100  # files per transaction: few commits, bounded memory (~40 MB of 400 KB files)
POOL_MIN_FILES = 200  # below this, starting worker processes costs more than it saves

Progress = Callable[[Tally], None]


class ImportService:
    """Import use cases; a run holds its own threads and (for big runs) worker processes."""

    def __init__(
        self,
        uow: ImportUowFactory,
        storage: Storage,
        clock: Clock,
        *,
        max_pixels: int,
        max_file_bytes: int,
        thumb_size: int,
        processes: int,
    ) -> None:
        self.uow = uow
        self.storage = storage
        self.clock = clock
        self.limits = Limits(max_pixels=max_pixels, max_file_bytes=max_file_bytes)
        self.thumb_size = thumb_size
        self.processes = processes if processes > 0 else (os.cpu_count() or 1)

    def run(
        self,
        owner_id: str,
        source: Source,
        options: ImportOptions | None = None,
        *,
        on_progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        entries: Sequence[Entry] | None = None,
    ) -> ImportSummary:
        """Import the source's files (or these of them); Ctrl-C ends early, `interrupted` set."""
        options = options or ImportOptions()
        started = time.monotonic()
        entries = list(source.entries() if entries is None else entries)
        chunks = [entries[i : i + CHUNK] for i in range(0, len(entries), CHUNK)]
        interrupted = False
        with self.session(owner_id, source, options, expected=len(entries)) as run:
            run.tally.total = len(entries)
            try:
                # Chunks read (or being loaded by worker processes) ahead, oldest first. The
                # oldest is prepared (duplicates split off, its own stores and thumbnails
                # started) while the one before it is stored and recorded. Without a loader
                # pool nothing is read ahead: a reading thread next to the recording one
                # was tried, and the two fight over the GIL (5-10% slower).
                reads: deque[ChunkLoad] = deque()
                pending: list[ChunkBatch] = []  # the prepared chunk waiting to be recorded

                def step(read: ChunkLoad) -> None:
                    batch = run.prepare(read)
                    if pending:
                        run.finish(pending.pop())
                        if on_progress is not None:
                            on_progress(run.tally)
                    pending.append(batch)

                def stopping() -> bool:
                    return should_stop is not None and should_stop()

                for chunk in chunks:
                    if interrupted := stopping():
                        break
                    reads.append(run.read(chunk))
                    if len(reads) > run.lookahead:
                        step(reads.popleft())
                while reads and not interrupted:
                    if interrupted := stopping():
                        break
                    step(reads.popleft())
                if pending and not interrupted:
                    run.finish(pending.pop())
                    if on_progress is not None:
                        on_progress(run.tally)
                run.drain()
            except KeyboardInterrupt:
                interrupted = True  # chunks not yet recorded are read again next time
        return run.tally.summary(seconds=time.monotonic() - started, interrupted=interrupted)

    @contextmanager
    def session(
        self, owner_id: str, source: Source, options: ImportOptions, *, expected: int
    ) -> Iterator[ImportRun]:
        """An open run (threads, worker processes, prompt index) for `process` calls."""
        big = expected >= POOL_MIN_FILES
        loader = None
        if big and isinstance(source, FolderSource) and LoadPool.usable(self.storage):
            loader = LoadPool(self.processes, self.storage)  # workers do all but recording
        processes = self.processes if options.thumbnails and big and loader is None else 0
        thumbnailer = Thumbnailer(self.thumb_size, processes=processes)
        run = ImportRun(
            self.uow,
            self.storage,
            self.clock,
            self.limits,
            owner_id,
            source,
            options,
            thumbnailer,
            loader,
        )
        try:
            thumbnailer.start_pool()
            yield run
        finally:
            run.close()
            thumbnailer.close()
            if loader is not None:
                loader.close()
