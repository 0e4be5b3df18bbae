"""POST /api/v1/imports: an uploaded zip, or a folder inside the import roots, runs as a job."""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from promptcanvas.bootstrap import Container
from promptcanvas.settings import Settings
from tests.conftest import Api
from tests.jobs import drain

FIXTURES = Path("/work/shared/fixtures/metadata")
GOOD = ("a1111.png", "comfyui_img2img.png", "none_plain.jpg")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The one folder the server may import from, with past work in it."""
    top = tmp_path / "shared"
    (top / "alice" / "sub").mkdir(parents=True)
    for name in GOOD:
        shutil.copy(FIXTURES / name, top / "alice" / "sub" / name)
    shutil.copy(FIXTURES / "bad_empty_file.png", top / "alice" / "bad_empty_file.png")
    return top


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder with images that is not inside the import root."""
    folder = tmp_path / "private"
    folder.mkdir()
    shutil.copy(FIXTURES / "novelai.png", folder / "secret.png")
    return folder


@pytest.fixture
def settings(settings: Settings, root: Path) -> Settings:
    """The shared settings with one import root and small zip limits."""
    return settings.model_copy(
        update={"import_roots": [root], "import_zip_max_members": 20, "max_upload_bytes": 4 << 20}
    )


def zip_of(
    members: dict[str, bytes],
    *,
    links: dict[str, str] | None = None,
    date: tuple[int, int, int, int, int, int] = (2024, 5, 6, 7, 8, 0),
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date), data, zipfile.ZIP_DEFLATED)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return out.getvalue()


def fixture_zip(date: tuple[int, int, int, int, int, int] = (2024, 5, 6, 7, 8, 0)) -> bytes:
    members = {f"batch/{name}": (FIXTURES / name).read_bytes() for name in GOOD}
    members["batch/empty.png"] = b""
    members["batch/readme.txt"] = b"made with love"
    members["__MACOSX/batch/._a1111.png"] = b"\0\5\26\7 apple double"
    return zip_of(members, date=date)


def post_zip(api: Api, data: bytes, **form: str) -> Any:
    return api.post("/api/v1/imports", files={"file": ("past.zip", data)}, data=form)


def finish(container: Container, api: Api, import_id: str) -> dict[str, Any]:
    drain(container)
    response = api.get(f"/api/v1/imports/{import_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def nothing_imported(container: Container, api: Api) -> None:
    assert api.search() == []
    assert api.get("/api/v1/jobs").json()["data"] == []
    assert list(container.storage.list("imports/")) == []
    assert list(container.storage.list("blobs/")) == []


def test_zip_upload_is_imported_by_a_job_with_progress_and_summary(
    container: Container, alice: Api, bob: Api
) -> None:
    upload = fixture_zip()
    response = post_zip(alice, upload)
    assert response.status_code == 202, response.text
    queued = response.json()
    assert response.headers["location"] == f"/api/v1/imports/{queued['id']}"
    waiting = alice.get(f"/api/v1/imports/{queued['id']}").json()
    assert (waiting["status"], waiting["progress"], waiting["summary"]) == ("PENDING", 0.0, None)
    assert waiting["source"] == {"source": "zip", "name": "past.zip", "members": 5}
    assert list(container.storage.list("imports/"))  # staged for whichever worker runs it

    done = finish(container, alice, queued["id"])
    assert done["status"] == "SUCCESS"
    assert done["progress"] == 1.0
    summary = done["summary"]
    assert summary["imported"] == 3
    assert summary["failed_by_reason"] == {"empty file": 1}
    assert summary["failures"] == [{"file": "batch/empty.png", "reason": "empty file"}]
    assert summary["ignored_not_images"] == 1
    assert done["counts"] == {"imported": 3, "failed": 1}
    texts = {p["text"] for p in alice.search()}
    assert "photo of a duck" in texts
    assert list(container.storage.list("imports/")) == []  # the staged zip is gone

    job = alice.get(f"/api/v1/jobs/{queued['id']}").json()
    assert (job["kind"], job["status"]) == ("import", "SUCCESS")
    assert bob.get(f"/api/v1/imports/{queued['id']}").status_code == 404
    assert bob.search() == []

    # The same upload again: nothing read. A new zip of the same images: nothing new.
    again = post_zip(alice, upload).json()
    summary = finish(container, alice, again["id"])["summary"]
    assert (summary["imported"], summary["skipped_unchanged"]) == (0, 3)
    rezipped = post_zip(alice, fixture_zip(date=(2024, 5, 6, 7, 8, 10))).json()
    summary = finish(container, alice, rezipped["id"])["summary"]
    assert (summary["imported"], summary["skipped_duplicate"]) == (0, 3)


@pytest.mark.parametrize(
    ("members", "links", "status", "words"),
    [
        ({"../evil.png": b"x"}, None, 422, "'..'"),
        ({"/etc/evil.png": b"x"}, None, 422, "absolute"),
        ({"ok.png": b"x"}, {"link.png": "/etc/passwd"}, 422, "symlinks"),
        ({f"{i}.png": b"x" for i in range(21)}, None, 413, "members"),
        ({"bomb.png": b"\0" * (20 << 20)}, None, 413, "zip bomb"),
    ],
)
def test_hostile_zips_are_refused_and_nothing_is_imported(
    container: Container,
    alice: Api,
    members: dict[str, bytes],
    links: dict[str, str] | None,
    status: int,
    words: str,
) -> None:
    response = post_zip(alice, zip_of(members, links=links))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error["message"]
    assert set(error) == {"code", "message", "details"}
    nothing_imported(container, alice)


def test_bad_requests_get_clear_4xx(container: Container, alice: Api) -> None:
    not_zip = post_zip(alice, b"PK\3\4 but not really a zip")
    assert not_zip.status_code == 422
    assert not_zip.json()["error"]["message"] == "the file is not a zip archive"
    no_file = alice.post("/api/v1/imports", files={"other": ("x.zip", b"")})
    assert no_file.status_code == 422
    wrong_type = alice.post("/api/v1/imports", content=b"x", headers={"content-type": "text/csv"})
    assert wrong_type.status_code == 415
    bad_json = alice.post(
        "/api/v1/imports", content=b"{", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    extra = alice.post("/api/v1/imports", json={"path": "alice", "rm": True})
    assert extra.status_code == 422
    assert extra.json()["error"]["details"][0]["field"] == "rm"
    unknown_project = post_zip(alice, fixture_zip(), project_id="01m7yspzqh8xw3heey2k3y0fak")
    assert unknown_project.status_code == 404
    assert alice.get("/api/v1/imports/nope").status_code == 404
    assert alice.client.post("/api/v1/imports", json={"path": "alice"}).status_code == 401
    nothing_imported(container, alice)


def test_folder_inside_the_root_is_imported(
    container: Container, alice: Api, root: Path, outside: Path
) -> None:
    # A symlink inside the folder that leads out of the root is reported, never read.
    os.symlink(outside / "secret.png", root / "alice" / "sub" / "escape.png")
    response = alice.post("/api/v1/imports", json={"path": "alice"})
    assert response.status_code == 202, response.text
    done = finish(container, alice, response.json()["id"])
    assert done["source"] == {"source": "path", "path": str((root / "alice").resolve())}
    summary = done["summary"]
    assert summary["imported"] == 3
    assert summary["failed_by_reason"] == {
        "empty file": 1,
        "symlink leads outside the import root": 1,
    }
    texts = {p["text"] for p in alice.search()}
    assert "masterpiece, best quality,  cat, space, icon" not in texts  # the secret file

    absolute = alice.post("/api/v1/imports", json={"path": str(root / "alice" / "sub")})
    assert absolute.status_code == 202
    summary = finish(container, alice, absolute.json()["id"])["summary"]
    assert summary["skipped_unchanged"] == 3  # the same files, reached by another path


def test_paths_outside_the_roots_are_refused(
    container: Container, alice: Api, root: Path, outside: Path
) -> None:
    os.symlink(outside, root / "link_out")
    for path, status in [
        ("../private", 422),
        ("alice/../../private", 422),
        (str(outside), 422),
        ("link_out", 422),
        (str(root / "link_out"), 422),
        ("/etc", 422),
        ("missing", 404),
        ("", 422),
        ("alice\x00", 422),
    ]:
        response = alice.post("/api/v1/imports", json={"path": path})
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]["details"]
    nothing_imported(container, alice)


def test_path_imports_are_off_without_configured_roots(
    container: Container, alice: Api, root: Path
) -> None:
    container.imports.roots = []
    response = alice.post("/api/v1/imports", json={"path": str(root / "alice")})
    assert response.status_code == 422
    assert "PROMPTCANVAS_IMPORT_ROOTS" in response.json()["error"]["message"]
    nothing_imported(container, alice)


def test_a_root_removed_before_the_job_runs_fails_the_job_cleanly(
    container: Container, alice: Api, root: Path
) -> None:
    queued = alice.post("/api/v1/imports", json={"path": "alice"}).json()
    container.imports.roots = [root / "alice" / "sub"]  # the deployer narrowed the roots
    done = finish(container, alice, queued["id"])
    assert done["status"] == "FAILURE"
    assert "outside the folders" in done["error"]
    assert alice.search() == []


def test_an_import_job_that_crashes_unexpectedly_ends_failed_not_stuck_running(
    container: Container, alice: Api
) -> None:
    def crash(*_: Any) -> None:
        raise RuntimeError("a bug in the import handler")

    container.runner.kinds["import"] = crash
    queued = post_zip(alice, fixture_zip()).json()
    done = finish(container, alice, queued["id"])
    assert done["status"] == "FAILURE"
    job = alice.get(f"/api/v1/jobs/{queued['id']}").json()
    assert (job["status"], job["error"]) == ("FAILURE", "internal error")
