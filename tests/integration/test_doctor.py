"""`promptcanvas doctor`: each kind of disagreement between database and file store is
reported, repaired where it can be, and a second run says what is left."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from promptcanvas.adapters.db.consistency import SqlConsistency
from promptcanvas.adapters.db.tables import generation_assets, generations, jobs, portfolio_items
from promptcanvas.bootstrap import Container
from promptcanvas.domain.assets import blob_key, thumbnail_key
from promptcanvas.entrypoints.cli.main import app
from promptcanvas.services.doctor import Doctor, DoctorReport
from promptcanvas.services.import_media import remake_thumbnail
from promptcanvas.settings import Settings
from tests import factories
from tests.conftest import Api

MISSING_ID = "01zzzzzzzzzzzzzzzzzzzzzzzz"


def doctor(container: Container, *, repair: bool = False) -> DoctorReport:
    """A doctor run wired as the CLI wires it."""
    assets = container.assets

    def thumbnail(data: bytes, key: str) -> bytes:
        return remake_thumbnail(data, assets.thumb_size, key)

    checker = Doctor(
        container.maintenance,
        SqlConsistency(container.db),
        thumbnailer=thumbnail,
        queue=container.queue,
    )
    return checker.run(repair=repair)


def upload(api: Api, color: tuple[int, int, int]) -> dict[str, Any]:
    """A prompt with one uploaded output; the asset body plus its prompt id."""
    prompt = api.create_prompt(f"a fox in colour {color}")
    response = api.upload(factories.png(color=color), prompt_id=prompt["id"])
    assert response.status_code == 201, response.text
    return {**response.json(), "prompt_id": prompt["id"]}


@contextmanager
def without_foreign_keys(container: Container) -> Iterator[sa.Connection]:
    """A transaction where foreign keys are not enforced (what a broken restore could do)."""
    with container.db.engine.connect() as conn:
        if container.db.kind == "sqlite":
            # Outside any transaction (SQLite ignores the pragma inside one), on the driver's
            # connection so SQLAlchemy does not begin one for it.
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    yield conn
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
        else:
            with conn.begin():
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                yield conn


def test_a_healthy_library_is_consistent(container: Container, alice: Api) -> None:
    upload(alice, (1, 2, 3))
    report = doctor(container)
    assert report.problems == 0
    assert report.as_dict()["consistent"] is True
    assert report.scanned_files == 2  # the blob and its thumbnail
    assert report.summary()[-1] == "database and file store agree"


def test_orphaned_and_stale_temp_files_are_reported_then_swept(
    container: Container, alice: Api, settings: Settings
) -> None:
    kept = upload(alice, (1, 2, 3))
    orphan = blob_key("ab" * 32)
    container.storage.put(orphan, b"left behind by a crash between file and row")
    temp_dir = Path(str(settings.storage_url).removeprefix("file://")) / ".tmp"
    temp_dir.mkdir(exist_ok=True)
    stale, fresh = temp_dir / "crashed.part", temp_dir / "in-progress.part"
    stale.write_bytes(b"half an upload")
    fresh.write_bytes(b"a put still being written")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))

    found = doctor(container)
    assert (found.orphaned_files, found.stale_temp_files, found.deleted_files) == (1, 1, 0)
    assert found.problems == 0  # leftovers, not damage: every row still has its files
    assert container.storage.exists(orphan) and stale.exists()

    repaired = doctor(container, repair=True)
    assert (repaired.deleted_files, repaired.deleted_temp_files) == (1, 1)
    assert not container.storage.exists(orphan)
    assert not stale.exists() and fresh.exists()
    assert container.storage.exists(blob_key(kept["sha256"]))
    assert container.storage.exists(thumbnail_key(kept["sha256"]))
    again = doctor(container)
    assert (again.orphaned_files, again.stale_temp_files) == (0, 0)


def test_a_missing_thumbnail_is_regenerated_from_its_file(container: Container, alice: Api) -> None:
    asset = upload(alice, (10, 200, 30))
    container.storage.delete(thumbnail_key(asset["sha256"]))
    assert alice.get(f"/api/v1/assets/{asset['id']}/thumbnail").status_code == 503

    found = doctor(container)
    assert found.missing_thumbnails == [asset["id"]]
    assert found.rows_with_missing_files == []
    assert found.problems == 1
    assert "1 problem(s) remain; run `promptcanvas doctor --repair`" in found.summary()

    repaired = doctor(container, repair=True)
    assert repaired.regenerated_thumbnails == 1 and repaired.problems == 0
    thumb = alice.get(f"/api/v1/assets/{asset['id']}/thumbnail")
    assert thumb.status_code == 200
    image = Image.open(io.BytesIO(thumb.content))
    assert image.format == "WEBP"
    assert image.convert("RGB").getpixel((1, 1)) == pytest.approx((10, 200, 30), abs=8)
    assert doctor(container).problems == 0


def test_a_missing_file_is_reported_and_cannot_be_repaired(
    container: Container, alice: Api
) -> None:
    lost = upload(alice, (4, 5, 6))
    container.storage.delete(blob_key(lost["sha256"]))

    repaired = doctor(container, repair=True)
    assert repaired.rows_with_missing_files == [lost["id"]]
    assert repaired.missing_thumbnails == []  # the file is gone: nothing to make one from
    assert repaired.problems == 1
    assert "1 asset whose file is missing" in repaired.summary()
    assert doctor(container).rows_with_missing_files == [lost["id"]]


def queue_job(api: Api, text: str) -> str:
    response = api.post(
        "/api/v1/generations",
        json={"text": text, "provider": "local", "params": {"width": 64, "height": 64}},
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def set_running(container: Container, job_id: str, lease_until: datetime, attempts: int) -> None:
    """What a worker killed mid-run leaves: the job (and its generation) RUNNING, on a lease."""
    with container.db.transaction(write=True) as conn:
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id)
            .values(
                status="RUNNING",
                worker="w-1@gone-host:4242",
                claim_token="t" * 32,
                lease_until=lease_until,
                attempts=attempts,
            )
        )
        conn.execute(
            generations.update().where(generations.c.job_id == job_id).values(status="RUNNING")
        )


def test_jobs_left_running_by_a_dead_worker_are_requeued_or_failed(
    container: Container, alice: Api
) -> None:
    now = datetime.now(UTC)
    again = queue_job(alice, "a lighthouse, run again")
    spent = queue_job(alice, "a lighthouse, out of attempts")
    alive = queue_job(alice, "a lighthouse, still running")
    max_attempts = alice.get(f"/api/v1/jobs/{spent}").json()["max_attempts"]
    set_running(container, again, now - timedelta(minutes=5), attempts=0)
    set_running(container, spent, now - timedelta(minutes=5), attempts=max_attempts - 1)
    set_running(container, alive, now + timedelta(minutes=5), attempts=0)

    found = doctor(container)
    assert sorted(found.expired_leases) == sorted([again, spent])
    assert found.problems == 2
    assert alice.get(f"/api/v1/jobs/{again}").json()["status"] == "RUNNING"

    repaired = doctor(container, repair=True)
    assert (repaired.requeued_jobs, repaired.failed_jobs, repaired.problems) == (1, 1, 0)
    requeued = alice.get(f"/api/v1/jobs/{again}").json()
    assert (requeued["status"], requeued["attempts"]) == ("PENDING", 1)
    failed = alice.get(f"/api/v1/jobs/{spent}").json()
    assert failed["status"] == "FAILURE"
    assert "worker stopped" in failed["error"]
    [generation_id] = failed["generation_ids"]
    assert alice.get(f"/api/v1/generations/{generation_id}").json()["status"] == "FAILURE"
    assert alice.get(f"/api/v1/jobs/{alive}").json()["status"] == "RUNNING"
    assert doctor(container).expired_leases == []

    # The re-queued job really runs to the end now.
    while container.runner.run_next():
        pass
    assert alice.get(f"/api/v1/jobs/{again}").json()["status"] == "SUCCESS"


def test_rows_pointing_at_missing_rows_are_reported_and_removed(
    container: Container, alice: Api
) -> None:
    keep = upload(alice, (7, 8, 9))
    link = upload(alice, (20, 30, 40))
    ghost = upload(alice, (50, 60, 70))
    shown = upload(alice, (80, 90, 100))
    portfolio = alice.post(
        "/api/v1/portfolios", json={"title": "Winter", "prompt_ids": [shown["prompt_id"]]}
    )
    assert portfolio.status_code == 201, portfolio.text
    portfolio_id = portfolio.json()["id"]
    with without_foreign_keys(container) as conn:
        # A link to an asset that is gone, a generation whose prompt is gone, a portfolio
        # item whose asset is gone.
        conn.execute(
            generation_assets.update()
            .where(generation_assets.c.generation_id == link["generation_id"])
            .values(asset_id=MISSING_ID)
        )
        conn.execute(
            generations.update()
            .where(generations.c.id == ghost["generation_id"])
            .values(prompt_id=MISSING_ID)
        )
        conn.execute(
            portfolio_items.update()
            .where(portfolio_items.c.portfolio_id == portfolio_id)
            .values(asset_id=MISSING_ID)
        )

    found = doctor(container)
    kinds = sorted((d.kind, d.missing) for d in found.dangling_rows)
    assert kinds == [
        ("generation_without_prompt", f"prompt {MISSING_ID}"),
        ("output_link_without_asset", f"asset {MISSING_ID}"),
        ("portfolio_item_without_asset", f"asset {MISSING_ID}"),
    ]
    assert found.problems == 3
    assert found.as_dict()["dangling_rows"][0]["keys"]

    repaired = doctor(container, repair=True)
    assert (repaired.repaired_rows, repaired.problems) == (3, 0)
    with container.db.engine.connect() as conn:
        assert (
            conn.scalar(
                sa.select(sa.func.count()).where(generations.c.id == ghost["generation_id"])
            )
            == 0
        )
        assert (
            conn.scalar(
                sa.select(sa.func.count()).where(portfolio_items.c.portfolio_id == portfolio_id)
            )
            == 0
        )
    assert alice.get(f"/api/v1/portfolios/{portfolio_id}").status_code == 200
    assert alice.get(f"/api/v1/prompts/{keep['prompt_id']}").json()["outputs"]
    assert doctor(container).dangling_rows == []


def test_a_generation_left_unfinished_by_its_finished_job_is_settled(
    container: Container, alice: Api
) -> None:
    job_id = queue_job(alice, "a fox, its job cancelled")
    assert alice.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
    [generation_id] = alice.get(f"/api/v1/jobs/{job_id}").json()["generation_ids"]
    with container.db.transaction(write=True) as conn:
        conn.execute(
            generations.update().where(generations.c.id == generation_id).values(status="RUNNING")
        )

    found = doctor(container)
    assert [(d.kind, d.keys) for d in found.dangling_rows] == [
        ("unfinished_generation_without_job", (generation_id,))
    ]
    assert doctor(container, repair=True).problems == 0
    assert alice.get(f"/api/v1/generations/{generation_id}").json()["status"] == "CANCELLED"


def test_staged_import_zips_no_job_needs_are_swept(container: Container, alice: Api) -> None:
    cancelled = queue_job(alice, "a job cancelled after its zip was staged")
    assert alice.post(f"/api/v1/jobs/{cancelled}/cancel").status_code == 200
    waiting = queue_job(alice, "a job still waiting for its zip")
    never, just_now = "01" + "x" * 24, "01" + "y" * 24  # crashed before / while queueing
    for job_id in (cancelled, waiting, never, just_now):
        container.storage.put(f"imports/{job_id}.zip", b"PK zip bytes")
    an_hour_ago = time.time() - 3600
    os.utime(container.storage.locate(f"imports/{never}.zip"), (an_hour_ago, an_hour_ago))

    found = doctor(container)
    assert (found.stale_import_zips, found.problems) == (2, 0)
    assert doctor(container, repair=True).deleted_import_zips == 2
    left = {info.key for info in container.storage.list("imports/")}
    assert left == {f"imports/{waiting}.zip", f"imports/{just_now}.zip"}


def test_the_command_prints_a_summary_and_exits_non_zero_while_problems_remain(
    container: Container, alice: Api, settings: Settings
) -> None:
    asset = upload(alice, (3, 3, 3))
    container.storage.delete(thumbnail_key(asset["sha256"]))
    runner = CliRunner()
    env = {
        "PROMPTCANVAS_DATA_DIR": str(settings.data_dir),
        "PROMPTCANVAS_DATABASE_URL": settings.database_url,
        "PROMPTCANVAS_STORAGE_URL": settings.storage_url,
    }

    checked = runner.invoke(app, ["doctor"], env=env, catch_exceptions=False)
    assert checked.exit_code == 1, checked.output
    assert "1 missing thumbnail" in checked.output
    assert "run `promptcanvas doctor --repair`" in checked.output

    repaired = runner.invoke(app, ["doctor", "--repair"], env=env, catch_exceptions=False)
    assert repaired.exit_code == 0, repaired.output
    assert "1 missing thumbnail, 1 regenerated" in repaired.output
    assert "database and file store agree" in repaired.output
    as_json = runner.invoke(app, ["doctor", "--json"], env=env, catch_exceptions=False)
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["summary"][-1] == "database and file store agree"
