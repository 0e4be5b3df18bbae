"""The asset API on an S3-compatible store (a real moto_server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.settings import Settings
from tests import factories
from tests.conftest import Api, make_api
from tests.integration.conftest import REGION
from tests.integration.test_assets_api import error_of, nothing_stored, row_counts

PREFIX = "library/main"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_endpoint: str, s3_bucket: str) -> Settings:
    """The test library, with its files in a bucket under a prefix."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        storage_url=f"s3://{s3_bucket}/{PREFIX}",
        s3_endpoint_url=s3_endpoint,
        s3_region=REGION,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        orphan_grace_seconds=0,
    )


def bucket_keys(s3_client: Any, bucket: str, under: str = "") -> list[str]:
    """Every key in the bucket (not through the port: what is really there)."""
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=under)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def test_upload_dedupe_and_download_through_s3(
    alice: Api, container: Container, s3_client: Any, s3_bucket: str, settings: Settings
) -> None:
    assert container.storage.kind == "s3"
    data = factories.png(600, 300, color=(12, 34, 56))
    sha = hashlib.sha256(data).hexdigest()

    first = alice.upload(data, filename="harbour.png")
    second = alice.upload(data, filename="harbour-again.png")

    assert first.status_code == 201, first.text
    assert second.status_code == 200, second.text
    asset = first.json()
    assert second.json()["id"] == asset["id"]
    assert second.json()["created"] is False
    assert bucket_keys(s3_client, s3_bucket) == [
        f"{PREFIX}/blobs/{sha[:2]}/{sha[2:4]}/{sha}",
        f"{PREFIX}/thumbs/{sha[:2]}/{sha}.webp",
    ]

    content = alice.get(asset["url"])
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"] == "image/png"

    thumbnail = alice.get(asset["thumbnail_url"])
    assert thumbnail.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(thumbnail.content)) as thumb:
        assert thumb.format == "WEBP"
        assert max(thumb.size) == settings.thumbnail_size

    cached = alice.get(asset["url"], headers={"If-None-Match": content.headers["etag"]})
    assert cached.status_code == 304


def test_upload_to_a_prompt_on_s3(alice: Api) -> None:
    prompt = alice.create_prompt("눈 내리는 산타마을 풍경")
    response = alice.upload(
        factories.jpeg(80, 40, orientation=6), prompt_id=prompt["id"], parameters='{"seed": 9}'
    )
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (40, 80)
    [output] = alice.get(f"/api/v1/prompts/{prompt['id']}").json()["outputs"]
    assert output["provider"] == "manual"
    assert output["seed"] == 9
    assert alice.get(output["assets"][0]["url"]).content == factories.jpeg(80, 40, orientation=6)


def test_bad_upload_puts_nothing_in_the_bucket(
    alice: Api, container: Container, s3_client: Any, s3_bucket: str
) -> None:
    with nothing_stored(container):
        error_of(alice.upload(factories.truncated_png()), 415)
        error_of(alice.upload(factories.huge_png()), 413)
    assert bucket_keys(s3_client, s3_bucket) == []


def test_sweep_removes_orphans_from_the_bucket_and_keeps_used_files(
    alice: Api, container: Container, s3_client: Any, s3_bucket: str
) -> None:
    kept = alice.upload(factories.png(color=(1, 1, 1))).json()
    orphan = hashlib.sha256(b"left by a crash").hexdigest()
    container.storage.put(f"blobs/{orphan[:2]}/{orphan[2:4]}/{orphan}", b"left by a crash")

    report = container.maintenance.sweep()

    assert report.deleted == 1
    assert not any(orphan in key for key in bucket_keys(s3_client, s3_bucket))
    assert alice.get(kept["url"]).status_code == 200
    assert alice.get(kept["thumbnail_url"]).status_code == 200
    assert container.maintenance.missing_files() == []


def test_a_missing_bucket_is_503_and_records_nothing(settings: Settings) -> None:
    broken = bootstrap(settings.model_copy(update={"storage_url": "s3://no-such-bucket/x"}))
    try:
        with TestClient(create_app(broken)) as client:
            carol = make_api(broken, client, "carol")
            prompt = carol.create_prompt()
            error = error_of(carol.upload(factories.png(), prompt_id=prompt["id"]), 503)
            assert "secret" not in error["message"].lower()
            assert row_counts(broken) == (0, 0)
    finally:
        broken.close()
