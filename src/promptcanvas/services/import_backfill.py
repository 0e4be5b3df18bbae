"""Deferred thumbnails: an import run with thumbnails off stores assets without one; the next
run with thumbnails on (or this call) makes them from the stored files, not the source folder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from promptcanvas.domain.assets import thumbnail_key
from promptcanvas.ports.storage import StorageError
from promptcanvas.services.import_load import Thumbnailer
from promptcanvas.services.importing import CHUNK, IO_THREADS, ImportService

log = logging.getLogger(__name__)


def fill_thumbnails(
    service: ImportService,
    owner_id: str,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Make every missing thumbnail of the owner's assets; returns how many were added."""
    added = 0
    after: str | None = None
    thumbnailer: Thumbnailer | None = None
    storage = service.storage
    with ThreadPoolExecutor(IO_THREADS, thread_name_prefix="thumb-io") as io:
        try:
            while True:
                with service.uow(write=False) as uow:
                    page = uow.imports.unthumbnailed(owner_id, after, CHUNK)
                if not page:
                    return added
                after = page[-1].id
                if thumbnailer is None:
                    big = len(page) >= CHUNK
                    processes = service.processes if big else 0
                    thumbnailer = Thumbnailer(service.thumb_size, processes=processes)
                    if big:
                        thumbnailer.start_pool()

                def read(key: str) -> bytes | None:
                    try:
                        return storage.read(key)
                    except StorageError as exc:
                        log.warning("cannot read %s for its thumbnail: %s", key, exc)
                        return None

                datas = list(io.map(read, [a.storage_key for a in page]))
                readable = [(a, d) for a, d in zip(page, datas, strict=True) if d is not None]
                thumbs = thumbnailer.make([d for _, d in readable])
                made = [
                    (asset, thumb)
                    for (asset, _), thumb in zip(readable, thumbs, strict=True)
                    if thumb.data is not None
                ]
                keys = [thumbnail_key(a.sha256, t.media_type) for a, t in made]
                puts = [(k, t.data) for k, (_, t) in zip(keys, made, strict=True) if t.data]
                list(io.map(lambda item: storage.put(*item), puts))
                with service.uow() as uow:
                    uow.imports.set_thumbnails(
                        [(a.id, k, t.phash) for k, (a, t) in zip(keys, made, strict=True)]
                    )
                    uow.commit()
                added += len(made)
                if on_progress is not None:
                    on_progress(added)
        finally:
            if thumbnailer is not None:
                thumbnailer.close()
