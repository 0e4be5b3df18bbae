"""Consistency between database and file store: find and sweep orphaned files."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from promptcanvas.ports.clock import Clock
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.ports.storage import Storage, StorageError

log = logging.getLogger(__name__)
_BATCH = 500
# A temp file this old cannot belong to a put still in progress, even when the caller asks for
# no grace at all (`doctor --repair` while the server runs).
TEMP_MIN_AGE = timedelta(minutes=10)


@dataclass
class SweepReport:
    """What a sweep saw and did."""

    scanned: int = 0
    orphans: list[str] = field(default_factory=list)
    deleted: int = 0
    too_recent: int = 0
    temp_deleted: int = 0


def _sha_of(key: str) -> str | None:
    name = key.rsplit("/", 1)[-1].split(".", 1)[0]
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        return name
    return None


class Maintenance:
    """Sweeps files that no asset uses (left by crashes between file write and row commit,
    and by purges, which only delete rows)."""

    def __init__(
        self, uow: UowFactory, storage: Storage, clock: Clock, *, grace_seconds: int
    ) -> None:
        self.uow = uow
        self.storage = storage
        self.clock = clock
        self.grace = timedelta(seconds=grace_seconds)

    def sweep(self, *, delete: bool = True, grace: timedelta | None = None) -> SweepReport:
        """Find (and by default delete) files older than the grace period that no asset uses."""
        report = SweepReport()
        cutoff = self.clock.now() - (self.grace if grace is None else grace)
        batch: list[tuple[str, str]] = []
        for prefix in ("blobs/", "thumbs/"):
            for info in self.storage.list(prefix):
                report.scanned += 1
                sha = _sha_of(info.key)
                if sha is None:
                    continue
                if info.modified_at > cutoff:
                    report.too_recent += 1
                    continue
                batch.append((info.key, sha))
                if len(batch) >= _BATCH:
                    self._settle(batch, report, delete=delete)
                    batch = []
        self._settle(batch, report, delete=delete)
        if delete:
            age = max(self.grace if grace is None else grace, TEMP_MIN_AGE)
            try:
                report.temp_deleted = self.storage.cleanup_temp(age.total_seconds())
            except StorageError as exc:
                log.warning("could not remove temp files: %s", exc)
        return report

    def _settle(self, batch: list[tuple[str, str]], report: SweepReport, *, delete: bool) -> None:
        if not batch:
            return
        with self.uow(write=False) as uow:
            known = uow.assets.known_sha256(sorted({sha for _, sha in batch}))
        for key, sha in batch:
            if sha in known:
                continue
            report.orphans.append(key)
            if delete:
                try:
                    self.storage.delete(key)
                    report.deleted += 1
                except StorageError as exc:
                    log.warning("could not delete orphan %s: %s", key, exc)

    def missing_files(self) -> list[str]:
        """Asset ids whose file or thumbnail is absent from storage (should always be empty)."""
        missing: list[str] = []
        after: str | None = None
        while True:
            with self.uow(write=False) as uow:
                page = uow.assets.storage_keys(after, _BATCH)
            if not page:
                return missing
            for asset_id, key, thumb in page:
                if not self.storage.exists(key) or (thumb and not self.storage.exists(thumb)):
                    missing.append(asset_id)
            after = page[-1][0]
