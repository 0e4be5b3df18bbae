"""`promptcanvas doctor`: check that database and file store agree, and repair what can be.

Problems (the command exits non-zero while any remain): rows whose file is missing, missing
thumbnails, jobs left RUNNING by a dead worker (expired lease), rows pointing at rows that do
not exist. Leftovers (orphaned files, stale temp files, staged import zips no job needs) are
reported and swept on --repair, but are not problems: crashes leave them by design (files are
written before rows) and the server's sweeper removes most of them too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from promptcanvas.ports.clock import Clock
from promptcanvas.ports.consistency import ConsistencyChecks, Dangling
from promptcanvas.ports.jobs import JobQueue
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.ports.storage import ObjectNotFound, Storage, StorageError
from promptcanvas.services.maintenance import TEMP_MIN_AGE, Maintenance

log = logging.getLogger(__name__)
_PAGE = 500
_LIMIT = 10_000  # per run: a library this broken is repaired in a few runs
STAGED = "imports/"  # where import_jobs stages uploaded zips: imports/<job id>.zip
LEASE_ERROR = "its worker stopped while running it and it has no attempts left (doctor)"


@dataclass
class DoctorReport:
    """What a doctor run found and, with repair, fixed."""

    repaired: bool = False
    scanned_files: int = 0
    orphaned_files: int = 0
    deleted_files: int = 0
    stale_temp_files: int = 0
    deleted_temp_files: int = 0
    stale_import_zips: int = 0
    deleted_import_zips: int = 0
    rows_with_missing_files: list[str] = field(default_factory=list)
    missing_thumbnails: list[str] = field(default_factory=list)
    regenerated_thumbnails: int = 0
    expired_leases: list[str] = field(default_factory=list)
    requeued_jobs: int = 0
    failed_jobs: int = 0
    dangling_rows: list[Dangling] = field(default_factory=list)
    repaired_rows: int = 0

    @property
    def problems(self) -> int:
        """Problems still there after this run (all that were found, without repair)."""
        settled = self.requeued_jobs + self.failed_jobs
        return (
            len(self.rows_with_missing_files)
            + len(self.missing_thumbnails)
            - self.regenerated_thumbnails
            + len(self.expired_leases)
            - settled
            + len(self.dangling_rows)
            - self.repaired_rows
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON report: counts, the ids involved, and whether problems remain."""
        out = asdict(self)
        out["dangling_rows"] = [
            {"kind": d.kind, "keys": list(d.keys), "missing": d.missing} for d in self.dangling_rows
        ]
        out["problems"] = self.problems
        out["consistent"] = self.problems == 0
        out["summary"] = self.summary()
        return out

    def summary(self) -> list[str]:
        """A few lines a person reads."""
        fixed = self.repaired
        lines = [
            f"{self.scanned_files} files scanned",
            _line(self.orphaned_files, "orphaned file", self.deleted_files, "deleted", fixed),
            _line(
                self.stale_temp_files, "stale temp file", self.deleted_temp_files, "deleted", fixed
            ),
            _line(
                self.stale_import_zips,
                "staged import zip no job needs",
                self.deleted_import_zips,
                "deleted",
                fixed,
            ),
            _line(len(self.rows_with_missing_files), "asset whose file is missing", 0, "", fixed),
            _line(
                len(self.missing_thumbnails),
                "missing thumbnail",
                self.regenerated_thumbnails,
                "regenerated",
                fixed,
            ),
            _line(
                len(self.expired_leases),
                "job left running by a dead worker",
                self.requeued_jobs + self.failed_jobs,
                f"settled ({self.requeued_jobs} re-queued, {self.failed_jobs} failed)",
                fixed,
            ),
            _line(
                len(self.dangling_rows),
                "row pointing at a missing row",
                self.repaired_rows,
                "repaired",
                fixed,
            ),
        ]
        if self.problems:
            hint = "" if fixed else "; run `promptcanvas doctor --repair`"
            lines.append(f"{self.problems} problem(s) remain{hint}")
        else:
            lines.append("database and file store agree")
        return lines


def _line(found: int, what: str, done: int, verb: str, repaired: bool) -> str:
    text = f"{found} {what}{'' if found == 1 else 's'}"
    if repaired and found and verb:
        text += f", {done} {verb}"
    return text


class Doctor:
    """Finds and repairs disagreements between the database and the file store."""

    def __init__(
        self,
        maintenance: Maintenance,
        checks: ConsistencyChecks,
        *,
        thumbnailer: Callable[[bytes, str], bytes],  # (image, thumbnail key) -> thumbnail
        queue: JobQueue | None = None,
    ) -> None:
        self.maintenance = maintenance
        self.uow: UowFactory = maintenance.uow
        self.storage: Storage = maintenance.storage
        self.clock: Clock = maintenance.clock
        self.checks = checks
        self.thumbnailer = thumbnailer
        self.queue = queue

    def run(self, *, repair: bool = False) -> DoctorReport:
        """Check everything; with repair, fix what can be fixed."""
        report = DoctorReport(repaired=repair)
        sweep = self.maintenance.sweep(delete=repair, grace=timedelta(0))
        report.scanned_files = sweep.scanned
        report.orphaned_files = len(sweep.orphans)
        report.deleted_files = sweep.deleted
        report.deleted_temp_files = sweep.temp_deleted
        if repair:
            report.stale_temp_files = sweep.temp_deleted
        else:
            try:
                age = TEMP_MIN_AGE.total_seconds()
                report.stale_temp_files = self.storage.cleanup_temp(age, dry_run=True)
            except StorageError as exc:
                log.warning("could not count temp files: %s", exc)
        self._staged_imports(report, repair=repair)
        self._files(report, repair=repair)
        self._leases(report, repair=repair)
        report.dangling_rows = self.checks.dangling(_LIMIT)
        if repair and report.dangling_rows:
            report.repaired_rows = self.checks.repair_dangling(
                report.dangling_rows, self.clock.now()
            )
        return report

    def _staged_imports(self, report: DoctorReport, *, repair: bool) -> None:
        """Zips uploaded for an import whose job succeeded, was cancelled, or never was."""
        # A zip with no job yet may be one whose job is being queued right now; a failed job
        # keeps its zip for a retry.
        young = self.clock.now() - TEMP_MIN_AGE
        staged = {
            info.key.removeprefix(STAGED).removesuffix(".zip"): info
            for info in self.storage.list(STAGED)
            if info.key.endswith(".zip")
        }
        states = self.checks.job_states(sorted(staged))
        for job_id, info in staged.items():
            state = states.get(job_id)
            if state in ("SUCCESS", "CANCELLED") or (state is None and info.modified_at < young):
                report.stale_import_zips += 1
                if repair:
                    try:
                        self.storage.delete(info.key)
                        report.deleted_import_zips += 1
                    except StorageError as exc:
                        log.warning("could not delete %s: %s", info.key, exc)

    def _files(self, report: DoctorReport, *, repair: bool) -> None:
        after: str | None = None
        while True:
            with self.uow(write=False) as uow:
                page = uow.assets.storage_keys(after, _PAGE)
            if not page:
                return
            for asset_id, key, thumb in page:
                if not self.storage.exists(key):
                    report.rows_with_missing_files.append(asset_id)
                elif thumb and not self.storage.exists(thumb):
                    report.missing_thumbnails.append(asset_id)
                    if repair and self._regenerate(asset_id, key, thumb):
                        report.regenerated_thumbnails += 1
            after = page[-1][0]

    def _regenerate(self, asset_id: str, key: str, thumb: str) -> bool:
        try:
            data = self.storage.read(key)
            self.storage.put(thumb, self.thumbnailer(data, thumb))
        except ObjectNotFound:
            return False  # removed meanwhile: reported as missing on the next run
        except StorageError as exc:
            log.warning("could not regenerate the thumbnail of asset %s: %s", asset_id, exc)
            return False
        except Exception:  # the blob does not decode any more: keep going, report it
            log.exception("could not regenerate the thumbnail of asset %s", asset_id)
            return False
        return True

    def _leases(self, report: DoctorReport, *, repair: bool) -> None:
        now = self.clock.now()
        expired = self.checks.expired_leases(now, _LIMIT)
        report.expired_leases = [job.job_id for job in expired]
        if not repair or not expired:
            return
        # The interrupted run counts as an attempt, so a job that kills its worker every
        # time ends as FAILURE instead of being re-queued forever.
        again = [j.job_id for j in expired if j.attempts + 1 < j.max_attempts]
        spent = [j.job_id for j in expired if j.attempts + 1 >= j.max_attempts]
        report.requeued_jobs = self.checks.requeue_jobs(again, now) if again else 0
        report.failed_jobs = self.checks.fail_jobs(spent, now, LEASE_ERROR) if spent else 0
        if again and self.queue is not None:
            self.queue.enqueue(again)
