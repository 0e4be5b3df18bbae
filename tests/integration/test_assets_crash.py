"""Uploads write files first and rows second: a failure at any step leaves no row without its
files, and whatever files it leaves behind are swept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO

import pytest
import sqlalchemy as sa

from promptcanvas.adapters.db.uow import SqlUnitOfWork
from promptcanvas.bootstrap import Container
from promptcanvas.ports.storage import ObjectInfo, Storage, StorageError
from tests import factories
from tests.conftest import Api
from tests.integration.test_assets_api import error_of, row_counts, stored_keys


class RefusingStorage(Storage):
    """A real store that refuses writes of keys under one prefix, as a full disk would."""

    kind = "refusing"

    def __init__(self, inner: Storage, refuse_under: str) -> None:
        self.inner = inner
        self.refuse_under = refuse_under

    def put(self, key: str, data: bytes) -> None:
        if key.startswith(self.refuse_under):
            raise StorageError("disk full")
        self.inner.put(key, data)

    def open(self, key: str) -> BinaryIO:
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        return self.inner.list(prefix)

    def check(self) -> None:
        self.inner.check()


@pytest.mark.parametrize("refuse_under", ["blobs/", "thumbs/"])
def test_a_storage_failure_is_503_and_leaves_no_row(
    alice: Api, container: Container, monkeypatch: pytest.MonkeyPatch, refuse_under: str
) -> None:
    prompt = alice.create_prompt()
    monkeypatch.setattr(
        container.assets, "storage", RefusingStorage(container.storage, refuse_under)
    )

    response = alice.upload(factories.png(), prompt_id=prompt["id"])

    error = error_of(response, 503)
    assert error["code"] == "storage_unavailable"
    assert "disk full" not in error["message"]  # internals stay in the log
    assert row_counts(container) == (0, 0)
    assert alice.get(f"/api/v1/prompts/{prompt['id']}").json()["outputs"] == []
    # A blob written before the thumbnail failed is an orphan, and the sweep takes it.
    container.maintenance.sweep()
    assert stored_keys(container) == set()


def test_a_failed_commit_leaves_only_orphans_which_the_sweep_removes(
    alice: Api, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = alice.upload(factories.png(color=(0, 99, 0))).json()
    files_before = stored_keys(container)

    class CommitFails(SqlUnitOfWork):
        def commit(self) -> None:
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(
        container.assets, "uow", lambda write=True: CommitFails(container.db, write=write)
    )
    prompt = alice.create_prompt()
    with pytest.raises(sa.exc.OperationalError):
        container.assets.upload(
            alice.user_id, factories.png(color=(99, 0, 0)), prompt_id=prompt["id"]
        )
    monkeypatch.undo()

    orphans = stored_keys(container) - files_before
    assert len(orphans) == 2  # the files were written before the row failed
    assert row_counts(container) == (1, 0)
    assert container.maintenance.missing_files() == []

    # Within the grace period an orphan may be an upload in flight, so it stays.
    assert container.maintenance.sweep(grace=timedelta(hours=1)).deleted == 0
    report = container.maintenance.sweep()

    assert sorted(report.orphans) == sorted(orphans)
    assert stored_keys(container) == files_before
    assert alice.get(kept["url"]).status_code == 200
    assert alice.get(kept["thumbnail_url"]).status_code == 200


def test_a_sweep_between_file_write_and_commit_does_not_lose_the_files(
    alice: Api, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    swept = []

    class SweepFirst(SqlUnitOfWork):
        def commit(self) -> None:
            swept.append(container.maintenance.sweep())
            super().commit()

    monkeypatch.setattr(
        container.assets, "uow", lambda write=True: SweepFirst(container.db, write=write)
    )
    data = factories.png(color=(7, 7, 7))
    response = alice.upload(data)
    monkeypatch.undo()

    assert response.status_code == 201, response.text
    assert swept[0].deleted == 2  # the sweeper did take the not-yet-committed files
    assert container.maintenance.missing_files() == []
    assert alice.get(response.json()["url"]).content == data
    assert alice.get(response.json()["thumbnail_url"]).status_code == 200
