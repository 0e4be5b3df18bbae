"""A full disk answers 507, a read-only store 503, and neither leaves anything half-written.

Tests may run as root, where chmod does not stop writes, so the faults are injected where the
local store meets the kernel: its fsync of the new file (where a full disk often shows up, the
bytes having been accepted into the page cache) or the filesystem flush of a batch write.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from promptcanvas.adapters.storage import local
from promptcanvas.adapters.storage.local import LocalStorage
from promptcanvas.adapters.storage.s3 import S3Storage
from promptcanvas.bootstrap import Container
from promptcanvas.ports.storage import StorageError, StorageFull, StorageReadOnly
from promptcanvas.settings import Settings
from tests import factories
from tests.conftest import Api
from tests.integration.test_assets_api import error_of, row_counts, stored_keys
from tests.jobs import add_fake, drain, no_wait_retries

FULL = errno.ENOSPC
READ_ONLY = errno.EROFS


class Faults:
    """Makes the local store's file writes fail with an errno, after `allow` good ones."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.code: int | None = None
        self.allow = 0
        self.hits = 0
        real_fsync, real_syncfs = os.fsync, local._syncfs

        def fsync(fd: int) -> None:
            if self.code is not None and stat.S_ISREG(os.fstat(fd).st_mode):
                if self.allow > 0:
                    self.allow -= 1
                else:
                    self.hits += 1
                    raise OSError(self.code, os.strerror(self.code))
            real_fsync(fd)

        def syncfs(root: Path) -> None:
            if self.code is not None:
                self.hits += 1
                raise OSError(self.code, os.strerror(self.code))
            real_syncfs(root)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(local, "_syncfs", syncfs)

    def fail(self, code: int, *, allow: int = 0) -> None:
        self.code, self.allow = code, allow

    def heal(self) -> None:
        self.code = None


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Retries without waiting, so one thread runs a job to its end.
    return no_wait_retries(settings)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    return Faults(monkeypatch)


def storage_root(settings: Settings) -> Path:
    return Path(str(settings.storage_url).removeprefix("file://"))


def temp_files(settings: Settings) -> list[Path]:
    """Files in the store's temp area: a half-written object would be here."""
    temp = storage_root(settings) / ".tmp"
    return [p for p in temp.iterdir() if p.is_file()] if temp.is_dir() else []


def everything(container: Container, api: Api) -> tuple[Any, ...]:
    """What a user (and the file store) would see: prompts, rows, stored keys."""
    prompts = sorted((p["id"], p["output_count"]) for p in api.search())
    return prompts, row_counts(container), stored_keys(container)


# -- the adapters' own classification ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (errno.ENOSPC, StorageFull, "disk full"),
        (errno.EDQUOT, StorageFull, "disk full"),
        (errno.EROFS, StorageReadOnly, "read-only filesystem"),
        (errno.EACCES, StorageReadOnly, "permission denied"),
        (errno.EIO, StorageError, "Input/output error"),
    ],
)
def test_local_storage_says_why_a_write_failed_and_leaves_no_partial_file(
    tmp_path: Path, faults: Faults, code: int, kind: type[StorageError], words: str
) -> None:
    store = LocalStorage(tmp_path / "files")
    faults.fail(code)
    with pytest.raises(StorageError) as raised:
        store.put("blobs/ab/" + "ab" * 32, b"x" * 100_000)
    assert type(raised.value) is kind
    assert words in str(raised.value)
    assert list(store.list("")) == []
    assert [p for p in (tmp_path / "files" / ".tmp").iterdir() if p.is_file()] == []
    with pytest.raises(kind):
        store.put_many([("blobs/a", b"1"), ("blobs/b", b"2")])
    faults.heal()
    store.put("blobs/c", b"3")
    assert store.read("blobs/c") == b"3"


def test_a_read_that_is_refused_is_not_called_read_only(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "files")
    error = store._error("cannot read 'k'", OSError(errno.EACCES, "Permission denied"))
    assert type(error) is StorageError


def s3_error(code: str, status: int) -> dict[str, Any]:
    return {"service_error_code": code, "http_status_code": status}


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("XMinioStorageFull", 507, StorageFull),
        ("QuotaExceeded", 403, StorageFull),
        ("InsufficientStorage", 507, StorageFull),  # an unknown code, but HTTP 507
        ("AccessDenied", 403, StorageReadOnly),
        ("ServiceUnavailable", 503, StorageError),
    ],
)
def test_s3_storage_maps_what_the_store_answers_to_a_put(
    code: str, status: int, kind: type[StorageError]
) -> None:
    store = S3Storage(
        "pictures",
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    with Stubber(store._client) as stub:
        stub.add_client_error("put_object", **s3_error(code, status))
        with pytest.raises(StorageError) as raised:
            store.put("blobs/k", b"data")
        assert type(raised.value) is kind
        # A refused read is not a read-only store.
        stub.add_client_error("get_object", **s3_error("AccessDenied", 403))
        with pytest.raises(StorageError) as refused:
            store.open("blobs/k")
        assert type(refused.value) is StorageError


# -- uploads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "api_code", "words"),
    [
        (FULL, 507, "insufficient_storage", "the file store is full"),
        (READ_ONLY, 503, "storage_unavailable", "read-only"),
    ],
)
@pytest.mark.parametrize("allow", [0, 1], ids=["file", "thumbnail"])
def test_an_upload_to_a_full_or_read_only_store_changes_nothing(
    container: Container,
    alice: Api,
    faults: Faults,
    settings: Settings,
    code: int,
    status: int,
    api_code: str,
    words: str,
    allow: int,
) -> None:
    prompt = alice.create_prompt("a red fox in the snow")
    before = everything(container, alice)

    faults.fail(code, allow=allow)  # allow=1: the file is stored, its thumbnail is not
    response = alice.upload(factories.png(color=(9, 9, 9)), prompt_id=prompt["id"])

    error = error_of(response, status)
    assert error["code"] == api_code
    assert words in error["message"] and "nothing was stored" in error["message"]
    assert str(storage_root(settings)) not in error["message"]  # no paths to the client
    assert faults.hits == 1
    assert temp_files(settings) == []
    assert row_counts(container) == before[1]
    assert alice.get(f"/api/v1/prompts/{prompt['id']}").json()["outputs"] == []
    # The file stored before its thumbnail failed has no row: the sweep takes it.
    faults.heal()
    container.maintenance.sweep()
    assert everything(container, alice) == before
    assert alice.upload(factories.png(color=(9, 9, 9)), prompt_id=prompt["id"]).status_code == 201


def test_an_import_zip_sent_to_a_full_store_is_refused_with_507(
    container: Container, alice: Api, faults: Faults
) -> None:
    faults.fail(FULL)
    response = alice.post(
        "/api/v1/imports", files={"file": ("past.zip", zip_of({"a.png": factories.png()}))}
    )
    error = error_of(response, 507)
    assert error["code"] == "insufficient_storage"
    assert alice.get("/api/v1/jobs").json()["data"] == []
    assert list(container.storage.list("imports/")) == []


# -- generation outputs ---------------------------------------------------------------------


@pytest.mark.parametrize("code", [FULL, READ_ONLY])
def test_a_generation_whose_output_cannot_be_stored_fails_and_stores_nothing(
    container: Container, alice: Api, faults: Faults, settings: Settings, code: int
) -> None:
    add_fake(container)
    queued = alice.post(
        "/api/v1/generations",
        json={"text": "a lighthouse at dusk", "provider": "fake", "model": "toy"},
    )
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job_id"]
    before = row_counts(container)

    faults.fail(code)
    drain(container)

    job = alice.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "FAILURE"
    assert "could not be stored" in job["error"]
    [generation_id] = job["generation_ids"]
    generation = alice.get(f"/api/v1/generations/{generation_id}").json()
    assert (generation["status"], generation["assets"]) == ("FAILURE", [])
    assert row_counts(container) == before
    assert temp_files(settings) == []
    faults.heal()
    container.maintenance.sweep()
    assert stored_keys(container) == set()

    # Once there is room again, a retry stores the output.
    assert alice.post(f"/api/v1/jobs/{job_id}/retry").status_code in (200, 202)
    drain(container)
    assert alice.get(f"/api/v1/jobs/{job_id}").json()["status"] == "SUCCESS"


# -- imports --------------------------------------------------------------------------------


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_an_import_into_a_full_store_stops_and_records_nothing_half_written(
    container: Container, alice: Api, faults: Faults, settings: Settings
) -> None:
    queued = alice.post(
        "/api/v1/imports",
        files={
            "file": (
                "past.zip",
                zip_of({f"{i}.png": factories.png(color=(i, 80, 80)) for i in range(6)}),
            )
        },
    )
    assert queued.status_code == 202, queued.text
    import_id = queued.json()["id"]
    before = row_counts(container)

    faults.fail(FULL)
    drain(container)

    done = alice.get(f"/api/v1/imports/{import_id}").json()
    assert done["status"] != "SUCCESS"
    assert alice.search() == []
    assert row_counts(container) == before
    assert temp_files(settings) == []
    faults.heal()
    container.maintenance.sweep()
    assert stored_keys(container) == set()  # files written before the flush failed: swept
