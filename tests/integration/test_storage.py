"""Storage contract tests against memory, a local directory and S3 (a real moto_server)."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from promptcanvas.adapters.storage import open_storage
from promptcanvas.adapters.storage.local import LocalStorage
from promptcanvas.adapters.storage.s3 import S3Storage
from promptcanvas.ports.storage import MemoryStorage, ObjectNotFound, Storage, StorageError
from tests.integration.conftest import LOCAL_HTTP, REGION, free_port

S3_PREFIX = "lib/one"
BAD_KEYS = ["../x", "/abs", "a//b", "a/../b", "a/./b", "", "caf\u00e9/x", "a b", "a\\b"]


def _s3_storage(endpoint: str, bucket: str, secret: str = "test") -> S3Storage:
    return S3Storage(
        bucket,
        S3_PREFIX,
        endpoint_url=endpoint,
        region=REGION,
        access_key_id="test",
        secret_access_key=secret,
    )


@pytest.fixture(params=["memory", "local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return _s3_storage(request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket"))


def _fetch(url: str) -> bytes:
    with LOCAL_HTTP.open(url, timeout=10) as response:
        body: bytes = response.read()
        return body


# --- the contract, for every backend ---------------------------------------------------------


def test_put_then_open_returns_exact_bytes(storage: Storage) -> None:
    data = bytes(range(256)) * 1024 + b"\x00\r\n"
    storage.put("img/ab/cdef.png", data)
    with storage.open("img/ab/cdef.png") as stream:
        assert stream.read() == data
    assert storage.read("img/ab/cdef.png") == data


def test_empty_object_round_trips(storage: Storage) -> None:
    storage.put("empty.bin", b"")
    assert storage.read("empty.bin") == b""
    assert storage.exists("empty.bin")


def test_put_same_key_twice_keeps_one_object(storage: Storage) -> None:
    storage.put("a/same.bin", b"same bytes")
    storage.put("a/same.bin", b"same bytes")
    assert storage.read("a/same.bin") == b"same bytes"
    assert [info.key for info in storage.list()] == ["a/same.bin"]


def test_put_replaces_an_existing_object(storage: Storage) -> None:
    storage.put("a/k.bin", b"first")
    storage.put("a/k.bin", b"the second, longer")
    assert storage.read("a/k.bin") == b"the second, longer"


def test_put_many_stores_every_object_in_a_fresh_store(storage: Storage) -> None:
    items = [(f"blobs/{i:02x}/{i:02x}/obj{i}", bytes([i]) * (i + 1)) for i in range(40)]
    items.append(("blobs/00/00/obj0", b"\x00"))  # the same object twice in one batch
    storage.put_many(items)
    for key, data in items:
        with storage.open(key) as stream:
            assert stream.read() == data
    assert sorted(o.key for o in storage.list("blobs/")) == sorted({k for k, _ in items})


def test_put_many_unflushed_then_synced_stores_every_object(storage: Storage) -> None:
    items = [(f"blobs/{i:02x}/ab/obj{i}", bytes([i]) * 300) for i in range(12)]
    storage.put_many(items, durable=False)
    storage.sync()
    for key, data in items:
        assert storage.read(key) == data


def test_a_pickled_local_store_in_another_process_writes_the_same_objects(
    tmp_path: Path,
) -> None:
    store = LocalStorage(tmp_path / "files")
    assert store.shareable
    store.put("a/before.bin", b"before")  # the original has found its folders
    code = (
        "import pickle, sys; store = pickle.loads(sys.stdin.buffer.read()); "
        "store.put_many([('a/x.bin', b'x'), ('b/c/y.bin', b'y')], durable=False)"
    )
    subprocess.run([sys.executable, "-c", code], input=pickle.dumps(store), check=True, timeout=60)
    store.sync()
    assert (store.read("a/x.bin"), store.read("b/c/y.bin")) == (b"x", b"y")
    assert not MemoryStorage().shareable


def test_put_many_rejects_a_bad_key(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.put_many([("good/key", b"a"), ("../escape", b"b")])
    assert not storage.exists("good/key"), "nothing of a rejected batch is stored"


def test_exists_follows_put_and_delete(storage: Storage) -> None:
    assert not storage.exists("x/y.txt")
    storage.put("x/y.txt", b"y")
    assert storage.exists("x/y.txt")
    assert not storage.exists("x")  # a key prefix is not an object
    storage.delete("x/y.txt")
    assert not storage.exists("x/y.txt")


def test_delete_is_idempotent(storage: Storage) -> None:
    storage.delete("never/there.bin")
    storage.put("k.bin", b"k")
    storage.delete("k.bin")
    storage.delete("k.bin")
    with pytest.raises(ObjectNotFound):
        storage.open("k.bin")


def test_list_filters_by_prefix_and_reports_sizes(storage: Storage) -> None:
    objects = {
        "img/ab/1.png": b"1",
        "img/ab/2.png": b"22",
        "img/cd/3.png": b"333",
        "imgx/4.png": b"4444",
        "thumb/5.png": b"55555",
    }
    for key, data in objects.items():
        storage.put(key, data)

    def keys(prefix: str) -> set[str]:
        return {info.key for info in storage.list(prefix)}

    assert keys("") == set(objects)
    assert keys("img/") == {"img/ab/1.png", "img/ab/2.png", "img/cd/3.png"}
    assert keys("img") == {"img/ab/1.png", "img/ab/2.png", "img/cd/3.png", "imgx/4.png"}
    assert keys("img/a") == {"img/ab/1.png", "img/ab/2.png"}
    assert keys("img/ab/2") == {"img/ab/2.png"}
    assert keys("nothing/") == set()
    for info in storage.list():
        assert info.size == len(objects[info.key])
        assert info.modified_at.tzinfo is not None


def test_open_missing_key_raises_object_not_found(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        storage.open("missing/key.bin")
    with pytest.raises(StorageError):  # ObjectNotFound is a StorageError
        storage.read("missing/key.bin")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_put_rejects_bad_keys(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.put(key, b"x")
    assert list(storage.list()) == []


@pytest.mark.parametrize("key", BAD_KEYS)
def test_every_method_rejects_bad_keys(storage: Storage, key: str) -> None:
    for call in (storage.open, storage.exists, storage.delete, storage.url_for):
        with pytest.raises(ValueError):
            call(key)


def test_url_for(storage: Storage) -> None:
    storage.put("img/photo.png", b"\x89PNG fake image bytes")
    url = storage.url_for("img/photo.png", expires=60)
    if storage.kind == "s3":
        assert url is not None
        assert _fetch(url) == b"\x89PNG fake image bytes"
    else:
        assert url is None


def test_check_passes(storage: Storage) -> None:
    storage.check()


# --- local files -----------------------------------------------------------------------------


class _Crash(BaseException):
    """Stands in for the process dying mid-put: no ordinary cleanup runs."""


def test_local_crash_before_rename_leaves_no_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStorage(tmp_path)

    def crash(*args: object) -> None:
        raise _Crash

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(_Crash):
        store.put("a/b.bin", b"data")
    monkeypatch.undo()

    assert not store.exists("a/b.bin")
    with pytest.raises(ObjectNotFound):
        store.open("a/b.bin")
    assert list(store.list()) == []
    temps = list((tmp_path / ".tmp").iterdir())
    assert len(temps) == 1

    assert store.cleanup_temp() == 0  # a fresh temp may belong to a put in progress
    an_hour_ago = time.time() - 3601
    os.utime(temps[0], (an_hour_ago, an_hour_ago))
    assert store.cleanup_temp() == 1
    assert list((tmp_path / ".tmp").iterdir()) == []

    store.put("a/b.bin", b"data")
    assert store.read("a/b.bin") == b"data"


def test_local_failed_rename_raises_storage_error_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStorage(tmp_path)

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(StorageError, match="disk full"):
        store.put("a/b.bin", b"data")
    monkeypatch.undo()
    assert not store.exists("a/b.bin")
    assert list((tmp_path / ".tmp").iterdir()) == []


@pytest.mark.parametrize("nameless", [True, False], ids=["linked-in", "renamed-in"])
def test_local_put_many_writes_whole_objects_and_replaces_a_wrong_sized_one(
    tmp_path: Path, nameless: bool
) -> None:
    store = LocalStorage(tmp_path)
    store._nameless = store._nameless and nameless  # noqa: SLF001 (both ways of writing)
    items = [(f"blobs/{i:02x}/aa/obj{i}", bytes([i]) * 5000) for i in range(6)]
    store.put_many(items, durable=False)
    (tmp_path / "blobs" / "00" / "aa" / "obj0").write_bytes(b"cut sho")  # a torn object

    store.put_many(items)

    assert [store.read(k) for k, _ in items] == [d for _, d in items]
    assert sorted(o.key for o in store.list()) == sorted(k for k, _ in items)
    assert list((tmp_path / ".tmp").iterdir()) == []  # nothing left aside either way


def test_local_put_of_existing_key_refreshes_mtime(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put("ab/cd.bin", b"content")
    long_ago = time.time() - 86400
    os.utime(tmp_path / "ab" / "cd.bin", (long_ago, long_ago))
    [before] = store.list()

    store.put("ab/cd.bin", b"content")

    [after] = store.list()
    assert after.modified_at.timestamp() > before.modified_at.timestamp() + 3600
    assert store.read("ab/cd.bin") == b"content"


@pytest.mark.parametrize(
    ("error", "message"),
    [(errno.ENOSPC, "disk full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission")],
)
def test_local_check_says_why_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int, message: str
) -> None:
    store = LocalStorage(tmp_path)

    def failing_fsync(fd: int) -> None:
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StorageError, match=message):
        store.check()
    monkeypatch.undo()
    assert list((tmp_path / ".tmp").iterdir()) == []  # the probe is not left behind


def test_local_check_fails_when_root_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StorageError):
        LocalStorage(tmp_path / "file").check()


def test_local_reserves_the_temp_directory(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    with pytest.raises(ValueError):
        store.put(".tmp/x", b"x")
    assert list(store.list(".tmp/")) == []


def test_local_refuses_paths_that_escape_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    store = LocalStorage(root)
    with pytest.raises(StorageError):
        store.put("link/x.bin", b"x")
    assert list(outside.iterdir()) == []


def test_local_key_that_is_a_directory_is_not_an_object(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put("a/b.bin", b"b")
    assert not store.exists("a")
    with pytest.raises(ObjectNotFound):
        store.open("a")
    store.delete("a")
    assert store.read("a/b.bin") == b"b"


# --- S3 --------------------------------------------------------------------------------------


def test_s3_keys_live_under_the_prefix(s3_endpoint: str, s3_bucket: str, s3_client: Any) -> None:
    store = _s3_storage(s3_endpoint, s3_bucket)
    store.put("img/a.png", b"a")
    s3_client.head_object(Bucket=s3_bucket, Key=f"{S3_PREFIX}/img/a.png")
    # Neighbours outside the prefix (including one sharing its first characters) stay invisible.
    s3_client.put_object(Bucket=s3_bucket, Key="lib/onetwo/img/b.png", Body=b"b")
    s3_client.put_object(Bucket=s3_bucket, Key="img/c.png", Body=b"c")
    assert [info.key for info in store.list()] == ["img/a.png"]
    assert [info.key for info in store.list("img/")] == ["img/a.png"]


def test_s3_check_fails_for_a_missing_bucket_without_leaking_the_secret(
    s3_endpoint: str,
) -> None:
    secret = "sekrit-do-not-print-0123456789"
    store = _s3_storage(s3_endpoint, "no-such-bucket", secret=secret)
    with pytest.raises(StorageError) as raised:
        store.check()
    assert "no-such-bucket" in str(raised.value)
    assert secret not in str(raised.value)
    assert secret not in repr(store)
    with pytest.raises(StorageError) as raised:
        store.put("k.bin", b"k")
    assert secret not in str(raised.value)


def test_s3_unreachable_endpoint_raises_storage_error() -> None:
    store = S3Storage(
        "bucket",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region=REGION,
        access_key_id="test",
        secret_access_key="test",
    )
    with pytest.raises(StorageError):
        store.exists("k.bin")


# --- the factory -----------------------------------------------------------------------------


def test_open_storage_file_url(tmp_path: Path) -> None:
    store = open_storage(f"file://{tmp_path}/store")
    assert store.kind == "local"
    store.put("k.bin", b"k")
    assert (tmp_path / "store" / "k.bin").read_bytes() == b"k"


def test_open_storage_s3_url(s3_endpoint: str, s3_bucket: str, s3_client: Any) -> None:
    store = open_storage(
        f"s3://{s3_bucket}/{S3_PREFIX}/",
        endpoint_url=s3_endpoint,
        region=REGION,
        access_key_id="test",
        secret_access_key="test",
    )
    assert store.kind == "s3"
    store.put("k.bin", b"k")
    s3_client.head_object(Bucket=s3_bucket, Key=f"{S3_PREFIX}/k.bin")


@pytest.mark.parametrize(
    "url",
    ["", "/var/data", "file://relative/path", "file:relative", "http://host/x", "s3://", "gs://b"],
)
def test_open_storage_rejects_other_urls(url: str) -> None:
    with pytest.raises(ValueError):
        open_storage(url)


def test_open_storage_does_not_echo_credentials_in_s3_urls() -> None:
    with pytest.raises(ValueError) as raised:
        open_storage("s3://AKIA:sekrit@bucket/prefix")
    assert "sekrit" not in str(raised.value)


def test_importing_the_package_does_not_import_boto3() -> None:
    code = "import sys, promptcanvas.adapters.storage; assert 'boto3' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
