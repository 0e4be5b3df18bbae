"""`import --watch`: find files a tool is writing into a folder, once they are complete.

Polling, not filesystem events: a rescan of the folder's directory entries is cheap (10,000
files in tens of milliseconds, nothing read), it works the same on network shares, Docker bind
mounts and every OS, and it needs no new dependency. Event APIs (inotify via `watchfiles`)
would still need the same "has the size settled?" check, because tools write images in several
steps and an event only says something changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from promptcanvas.services.import_scan import Entry, Source


class FolderWatch:
    """Which files are ready: new or changed, and unchanged for `settle` seconds.

    A file counts as written when its size and modification time are the same at two polls in
    a row and the modification time is at least `settle` seconds old; until then it waits.
    """

    def __init__(
        self, source: Source, *, settle: float, now: Callable[[], float] = time.time
    ) -> None:
        self.source = source
        self.settle = settle
        self.now = now
        self.known: dict[str, tuple[int, int]] = {}  # handed out already
        self.pending: dict[str, tuple[int, int]] = {}  # seen, not yet settled

    def ready(self) -> list[Entry]:
        """Files to import now (on the first call: every file that is old enough)."""
        first = not self.known and not self.pending
        now = self.now()
        out: list[Entry] = []
        current: set[str] = set()
        for entry in self.source.entries():
            current.add(entry.key)
            signature = (entry.size, entry.mtime_ns)
            if self.known.get(entry.key) == signature:
                continue
            old_enough = now - entry.mtime_ns / 1e9 >= self.settle
            steady = first or self.pending.get(entry.key) == signature
            if old_enough and steady:
                out.append(entry)
                self.known[entry.key] = signature
                self.pending.pop(entry.key, None)
            else:
                self.pending[entry.key] = signature
        for gone in set(self.pending) - current:
            del self.pending[gone]
        return out
