"""Imports as jobs: submitted through the API (an uploaded zip, or a folder inside the import
roots), run by the job runner on embedded workers or Celery, followed through the job table.

An uploaded zip is checked before anything is stored (a hostile archive is refused with a 4xx)
and then staged in the file store under `imports/<job id>.zip`, where any worker can read it;
it is removed once the job succeeds or is cancelled (a failed job keeps it for a retry). A path
is checked against the roots when submitted and again when the job runs.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from promptcanvas.domain.errors import DomainError, NotFound
from promptcanvas.domain.ids import is_valid_id, new_id
from promptcanvas.domain.jobs import Job, JobStatus
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.imports import ImportUowFactory
from promptcanvas.ports.jobs import JobQueue
from promptcanvas.ports.storage import ObjectNotFound, Storage, StorageError
from promptcanvas.services.assets import write_refused
from promptcanvas.services.import_backfill import fill_thumbnails
from promptcanvas.services.import_scan import (
    FolderSource,
    Source,
    ZipLimits,
    ZipSource,
    resolve_in_roots,
)
from promptcanvas.services.importing import ImportOptions, ImportService

log = logging.getLogger(__name__)

KIND = "import"
MAX_ATTEMPTS = 3
RETRY_SECONDS = 5.0
_SPOOL_BYTES = 64 * 1024 * 1024  # staged zips bigger than this are read through a temp file


@dataclass(frozen=True)
class ImportStatus:
    """An import job with what it has settled so far (live while it runs)."""

    job: Job
    counts: dict[str, int]

    @property
    def summary(self) -> dict[str, Any] | None:
        """The final summary, once the job has succeeded."""
        return self.job.result


class ImportJobs:
    """Submits import jobs and runs them for the job runner."""

    kind = KIND

    def __init__(
        self,
        uow: ImportUowFactory,
        importer: ImportService,
        storage: Storage,
        queue: JobQueue,
        clock: Clock,
        *,
        roots: list[Path],
        zip_limits: ZipLimits,
    ) -> None:
        self.uow = uow
        self.importer = importer
        self.storage = storage
        self.queue = queue
        self.clock = clock
        self.roots = roots
        self.zip_limits = zip_limits

    # -- submitting -----------------------------------------------------------------------

    def submit_path(
        self,
        owner_id: str,
        path: str,
        *,
        project_id: str | None = None,
        thumbnails: bool = True,
    ) -> Job:
        """Queue the import of a folder inside the configured import roots."""
        target, _root = resolve_in_roots(path, self.roots)
        self._check_project(owner_id, project_id)
        payload = {"source": "path", "path": str(target), "thumbnails": thumbnails}
        return self._enqueue(new_id(), owner_id, {**payload, "project_id": project_id})

    def submit_zip(
        self,
        owner_id: str,
        upload: BinaryIO,
        *,
        name: str | None,
        project_id: str | None = None,
        thumbnails: bool = True,
    ) -> Job:
        """Check an uploaded zip, stage it in the file store, and queue its import."""
        self._check_project(owner_id, project_id)
        source = ZipSource(upload, self.zip_limits)  # refuses hostile archives: nothing stored
        members = len(source.members)
        source.close()
        upload.seek(0)
        job_id = new_id()
        key = f"imports/{job_id}.zip"
        try:
            self.storage.put(key, upload.read())
        except StorageError as exc:
            log.error("staging an import zip failed: %s", exc)
            raise write_refused(exc) from None
        label = (name or "upload.zip").replace("\x00", "")[-255:]
        payload = {"source": "zip", "key": key, "name": label, "members": members}
        payload["thumbnails"] = thumbnails
        return self._enqueue(job_id, owner_id, {**payload, "project_id": project_id})

    def _check_project(self, owner_id: str, project_id: str | None) -> None:
        if project_id is None:
            return
        with self.uow(write=False) as uow:
            found = uow.projects.get(owner_id, project_id) if is_valid_id(project_id) else None
        if found is None:
            raise NotFound("project not found", {"field": "project_id"})

    def _enqueue(self, job_id: str, owner_id: str, payload: dict[str, Any]) -> Job:
        now = self.clock.now()
        job = Job(
            id=job_id,
            owner_id=owner_id,
            kind=KIND,
            payload=payload,
            created_at=now,
            run_after=now,
            max_attempts=MAX_ATTEMPTS,
            updated_at=now,
        )
        with self.uow() as uow:
            uow.jobs.add_many([job])
            uow.commit()
        self.queue.enqueue([job.id])
        return job

    def status(self, owner_id: str, job_id: str) -> ImportStatus:
        """An import job of the owner with its counts so far."""
        with self.uow(write=False) as uow:
            job = uow.jobs.get(owner_id, job_id) if is_valid_id(job_id) else None
            if job is None or job.kind != KIND:
                raise NotFound("import not found", {"import_id": job_id})
            found = uow.imports.run_counts(owner_id, job.id)
        counts: dict[str, int] = {}
        for (state, _reason), n in found.items():
            counts[state] = counts.get(state, 0) + n
        return ImportStatus(job, counts)

    # -- running (called by the job runner with the claim token) ---------------------------

    def run_job(self, job: Job, token: str, progress: Callable[[float], None]) -> None:
        """Run an import job to its end; never raises (failures are written to the job)."""
        try:
            source = self._source(job)
        except DomainError as exc:
            self._end(job, token, JobStatus.FAILURE, error=exc.message)
            return
        except Exception:
            log.exception("import job %s could not open its source", job.id)
            self._retry_or_fail(job, token, "the import source could not be opened")
            return
        payload = job.payload
        options = ImportOptions(
            project_id=payload.get("project_id"),
            thumbnails=bool(payload.get("thumbnails", True)),
            run_id=job.id,
        )
        try:
            summary = self.importer.run(
                job.owner_id,
                source,
                options,
                on_progress=lambda tally: progress(tally.done / max(1, tally.total)),
                should_stop=lambda: self._lost(job.id, token),
            )
        except Exception as exc:
            log.exception("import job %s failed", job.id)
            message = exc.message if isinstance(exc, DomainError) else "internal error"
            self._retry_or_fail(job, token, message)
            return
        finally:
            source.close()
        if summary.interrupted:
            # Cancelled, or taken over by another worker after a lost lease (which still
            # needs the staged zip): nothing more to write here.
            with self.uow(write=False) as uow:
                current = uow.jobs.get(None, job.id)
            if current is not None and current.status is JobStatus.CANCELLED:
                self._drop_staged(job)
            return
        result = summary.to_dict()
        if options.thumbnails:
            try:
                result["thumbnails_added"] = fill_thumbnails(self.importer, job.owner_id)
            except Exception:  # the import itself is done; a later run retries these
                log.exception("import job %s could not add missing thumbnails", job.id)
        self._end(job, token, JobStatus.SUCCESS, result=result)
        self._drop_staged(job)

    def _source(self, job: Job) -> Source:
        payload = job.payload
        if payload.get("source") == "path":
            target, root = resolve_in_roots(str(payload.get("path", "")), self.roots)
            return FolderSource(target, confine=root)
        key = str(payload.get("key", ""))
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(_SPOOL_BYTES)  # noqa: SIM115
        try:
            try:
                with self.storage.open(key) as stream:  # another StorageError: retried later
                    shutil.copyfileobj(stream, spool, 1024 * 1024)
            except ObjectNotFound:
                raise NotFound("the uploaded zip is no longer stored; upload it again") from None
            label = str(payload.get("name", "upload.zip"))
            return ZipSource(spool, self.zip_limits, label=label, owns_stream=True)
        except BaseException:
            spool.close()
            raise

    def _lost(self, job_id: str, token: str) -> bool:
        """True once the job was cancelled or another worker holds it."""
        with self.uow(write=False) as uow:
            current = uow.jobs.get(None, job_id)
        return current is None or current.claim_token != token

    def _drop_staged(self, job: Job) -> None:
        key = job.payload.get("key")
        if job.payload.get("source") == "zip" and isinstance(key, str):
            try:
                self.storage.delete(key)
            except StorageError as exc:
                log.warning("could not remove the staged zip %s: %s", key, exc)

    def _retry_or_fail(self, job: Job, token: str, message: str) -> None:
        attempts = job.attempts + 1
        if attempts < job.max_attempts:
            delay = RETRY_SECONDS * attempts
            now = self.clock.now()
            later = job.retried(now, delay, message)
            with self.uow() as uow:
                if uow.jobs.finish(later, token):
                    uow.commit()
            self.queue.enqueue([job.id], delay=delay)
            return
        self._end(job, token, JobStatus.FAILURE, error=message)

    def _end(
        self,
        job: Job,
        token: str,
        status: JobStatus,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        done = job.ended(status, self.clock.now(), error=error, error_kind="import", result=result)
        with self.uow() as uow:
            if uow.jobs.finish(done, token):
                uow.commit()
