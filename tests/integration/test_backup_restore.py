"""`promptcanvas backup` and `restore`: a consistent snapshot that restores to the same library."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from promptcanvas.adapters import backup as backups
from promptcanvas.adapters.db import snapshot
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.settings import Settings
from tests.cli import Cli
from tests.conftest import POSTGRES_SKIP, POSTGRES_URL, _pg
from tests.factories import jpeg, png, webp

KOREAN = "귀여운 강아지가 뛰노는 밝은 영상"
SANTA = "눈 내리는 산타마을 풍경"
PUPPY = "a happy puppy running on the beach"
QUERIES = ["강아지", "영상", "풍경", "산타", "밤", "puppy", "sunset", "dog"]


@pytest.fixture
def empty_postgres() -> Iterator[Callable[[], str]]:
    """Makes brand-new, unmigrated PostgreSQL databases; drops them afterwards."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    admin = sa.create_engine(_pg(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def make() -> str:
        name = f"pc_restore_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return _pg(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def source(tmp_path: Path, database_url: str) -> Cli:
    """The CLI on the library that gets backed up (SQLite, or PostgreSQL)."""
    return Cli(tmp_path / "source", database_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    """The CLI on an empty data dir (for postgres, also an empty database) to restore into."""
    data_dir = tmp_path / "restored"
    if request.param == "sqlite":
        return Cli(data_dir)  # the default: a SQLite file inside the data dir
    make: Callable[[], str] = request.getfixturevalue("empty_postgres")
    return Cli(data_dir, make())


@pytest.fixture
def empty(tmp_path: Path) -> Cli:
    """An empty SQLite library in its own data dir."""
    return Cli(tmp_path / "empty")


class Server:
    """The app over one library, as a running server would serve it."""

    def __init__(self, settings: Settings) -> None:
        self.container: Container = bootstrap(settings)
        self.client = TestClient(create_app(self.container))

    def close(self) -> None:
        self.client.close()
        self.container.close()

    def get(self, key: str, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers={"Authorization": f"Bearer {key}"}, **kw)

    def send(self, method: str, key: str, url: str, **kw: Any) -> Any:
        response = self.client.request(
            method, url, headers={"Authorization": f"Bearer {key}"}, **kw
        )
        assert response.is_success, response.text
        return response.json() if response.content else None


@pytest.fixture
def serve() -> Iterator[Callable[[Cli], Server]]:
    """Opens servers over libraries and closes them at the end."""
    opened: list[Server] = []

    def open_(cli: Cli) -> Server:
        opened.append(Server(cli.settings()))
        return opened[-1]

    yield open_
    for server in opened:
        server.close()


@dataclass
class Library:
    """What build_library made: keys, prompt ids and uploaded bytes."""

    alice_key: str
    bob_key: str
    revoked_key: str
    prompts: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)


def build_library(c: Container) -> Library:
    """Two users with keys; Korean and English prompts, revisions, tags, a project, outputs."""
    alice = c.users.add_user("alice")
    bob = c.users.add_user("bob", is_admin=True)
    alice_key = c.users.create_key("alice", "laptop").secret
    old = c.users.create_key("alice", "old")
    c.users.revoke_key(alice.id, old.key.id)
    bob_key = c.users.create_key("bob").secret
    c.users.create_login_token("alice")
    project = c.projects.create_project(alice.id, "여름 캠페인", "강아지 영상 모음")
    korean = c.library.create_prompt(
        alice.id,
        text=KOREAN,
        negative_text="흐릿한, 저화질",
        category="영상",
        tags=["동물", "강아지"],
        project_id=project.id,
        starred=True,
        rating=5,
        author="민지",
        note="첫 시도",
    )
    santa = c.library.create_prompt(alice.id, text=SANTA, tags=["겨울"], category="풍경")
    puppy = c.library.create_prompt(
        alice.id, text=PUPPY, tags=["dog", "beach"], language="en", project_id=project.id
    )
    first = c.library.revise_prompt(
        alice.id, puppy.id, {"text": PUPPY + " at sunset", "note": "warmer light"}
    )
    second = c.library.revise_prompt(
        alice.id,
        first.id,
        {"text": "a happy golden puppy running on the beach at sunset", "tags": ["dog", "sunset"]},
    )
    trashed = c.library.create_prompt(alice.id, text="a discarded idea 버린 아이디어")
    c.library.trash_prompt(alice.id, trashed.id)
    library = Library(
        alice_key,
        bob_key,
        old.secret,
        {
            "korean": korean.id,
            "santa": santa.id,
            "puppy": puppy.id,
            "first": first.id,
            "second": second.id,
            "trashed": trashed.id,
        },
    )
    uploads = [
        (puppy.id, png(color=(250, 200, 10)), "puppy.png"),
        (puppy.id, png(96, 64, (1, 2, 3)), "puppy-2.png"),
        (korean.id, jpeg(orientation=6), "강아지.jpg"),
        (None, webp(), "loose.webp"),
    ]
    for prompt_id, data, name in uploads:
        result = c.assets.upload(
            alice.id,
            data,
            filename=name,
            prompt_id=prompt_id,
            model="sdxl",
            model_version="1.0",
            parameters={"seed": 42, "steps": 30, "sampler": "euler a"},
        )
        library.files[result.asset.id] = data
    # The same bytes from another user: stored once, two rows.
    shared = c.assets.upload(bob.id, png(color=(250, 200, 10)), filename="mine.png")
    library.files[shared.asset.id] = png(color=(250, 200, 10))
    library.prompts["bob"] = c.library.create_prompt(bob.id, text="밤 하늘의 별", tags=["밤"]).id
    return library


def library_state(settings: Settings) -> dict[str, Any]:
    """Every row of every table, and the hash of every stored file."""
    c = bootstrap(settings, upgrade=False)
    tables: dict[str, list[str]] = {}

    def sink(name: str, rows: Iterator[dict[str, Any]]) -> None:
        tables[name] = sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows)

    try:
        snapshot.export_tables(c.db, sink)
        files = {
            info.key: hashlib.sha256(c.storage.read(info.key)).hexdigest()
            for prefix in ("blobs/", "thumbs/")
            for info in c.storage.list(prefix)
        }
    finally:
        c.close()
    return {"tables": tables, "files": files}


def api_view(server: Server, key: str) -> dict[str, Any]:
    """Everything one user sees through the API, downloads included."""
    view: dict[str, Any] = {}
    for trashed in ("false", "true"):
        listing = server.get(key, "/api/v1/prompts", params={"limit": 200, "trashed": trashed})
        assert listing.status_code == 200, listing.text
        assert listing.json()["next_cursor"] is None
        view[f"prompts trashed={trashed}"] = listing.json()["data"]
    for prompt in view["prompts trashed=false"] + view["prompts trashed=true"]:
        detail = server.get(key, f"/api/v1/prompts/{prompt['id']}").json()
        view[f"detail {prompt['id']}"] = detail
        view[f"lineage {prompt['id']}"] = server.get(
            key, f"/api/v1/prompts/{prompt['id']}/lineage"
        ).json()
        for output in detail["outputs"]:
            for asset in output["assets"]:
                for url in (asset["url"], asset["thumbnail_url"]):
                    response = server.get(key, url)
                    assert response.status_code == 200, response.text
                    view[url] = (
                        response.headers["content-type"],
                        hashlib.sha256(response.content).hexdigest(),
                    )
    for query in QUERIES:
        found = server.get(key, "/api/v1/prompts", params={"q": query}).json()["data"]
        # As a set: the two engines may order equally relevant prompts differently.
        view[f"search {query}"] = sorted(p["id"] for p in found)
    for url in ("/api/v1/tags", "/api/v1/categories", "/api/v1/projects"):
        view[url] = server.get(key, url).json()
    return view


def test_backup_then_restore_gives_the_identical_library(
    source: Cli, target: Cli, serve: Callable[[Cli], Server], tmp_path: Path
) -> None:
    server = serve(source)
    library = build_library(server.container)
    views = {key: api_view(server, key) for key in (library.alice_key, library.bob_key)}
    # After the views: using a key records its last use, which the backup must carry too.
    state = library_state(source.settings())

    backup = tmp_path / "backup"
    assert "backed up" in source("backup", str(backup)).stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["missing_files"] == []
    assert manifest["files"] == len(state["files"])
    assert "restored" in target("restore", str(backup)).stdout

    assert library_state(target.settings()) == state
    restored = serve(target)
    for key, view in views.items():
        assert api_view(restored, key) == view

    # Checked by hand too, so the comparison above is known to cover what users notice.
    ids = library.prompts
    alice, bob = library.alice_key, library.bob_key

    def search(key: str, q: str) -> list[str]:
        response = restored.get(key, "/api/v1/prompts", params={"q": q})
        return [p["id"] for p in response.json()["data"]]

    assert search(alice, "강아지") == [ids["korean"]]
    assert search(alice, "산타") == [ids["santa"]]
    assert set(search(alice, "puppy")) == {ids["puppy"], ids["first"], ids["second"]}
    assert search(bob, "밤") == [ids["bob"]]
    assert search(bob, "강아지") == []
    assert restored.get(library.revoked_key, "/api/v1/prompts").status_code == 401
    assert restored.get(bob, f"/api/v1/prompts/{ids['korean']}").status_code == 404
    lineage = restored.get(alice, f"/api/v1/prompts/{ids['second']}/lineage").json()
    assert [n["id"] for n in lineage["data"]] == [ids["puppy"], ids["first"], ids["second"]]
    trash = restored.get(alice, "/api/v1/prompts", params={"trashed": "true"}).json()["data"]
    assert [p["id"] for p in trash] == [ids["trashed"]]
    for asset_id, data in library.files.items():
        for key in (alice, bob):
            response = restored.get(key, f"/api/v1/assets/{asset_id}/content")
            if response.status_code == 200:
                assert response.content == data
                break
        else:
            pytest.fail(f"asset {asset_id} cannot be downloaded after restore")

    # The restored library keeps working: new prompts get fresh keys and are searchable.
    added = restored.send("POST", alice, "/api/v1/prompts", json={"text": "새벽 바다 풍경"})
    assert set(search(alice, "풍경")) == {ids["santa"], added["id"]}
    child = restored.send("POST", alice, f"/api/v1/prompts/{ids['second']}/revisions", json={})
    assert child["parent_id"] == ids["second"]
    assert json.loads(target("doctor", "--json").stdout)["rows_with_missing_files"] == []


def test_backup_is_one_snapshot_while_the_server_writes(
    source: Cli,
    empty: Cli,
    serve: Callable[[Cli], Server],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(source)
    library = build_library(server.container)
    ids, key = library.prompts, library.alice_key
    before = library_state(source.settings())
    write_jsonl = backups._write_jsonl
    written: list[str] = []

    def write_while_backing_up(path: Path, rows: Iterator[dict[str, Any]]) -> int:
        # The backup has read users, keys and projects; now the server changes everything
        # it has not read yet, and some of what it has.
        if path.name == "prompts.jsonl" and not written:
            written.append(path.name)
            send = server.send
            send("POST", key, "/api/v1/prompts", json={"text": "written during the backup"})
            send("POST", key, f"/api/v1/prompts/{ids['second']}/revisions", json={"text": "v3"})
            send("PATCH", key, f"/api/v1/prompts/{ids['korean']}", json={"tags": ["바뀜"]})
            send("DELETE", key, f"/api/v1/prompts/{ids['santa']}")
            send("DELETE", key, f"/api/v1/prompts/{ids['trashed']}", params={"purge": "true"})
            send(
                "POST",
                key,
                "/api/v1/assets",
                files={"file": ("new.png", png(color=(9, 9, 9)))},
                data={"prompt_id": ids["korean"]},
            )
            send("POST", key, "/api/v1/projects", json={"name": "new project"})
            server.container.users.add_user("carol")
        return write_jsonl(path, rows)

    monkeypatch.setattr(backups, "_write_jsonl", write_while_backing_up)
    source("backup", str(tmp_path / "backup"))
    assert written == ["prompts.jsonl"]
    assert library_state(source.settings()) != before

    empty("restore", str(tmp_path / "backup"))
    assert library_state(empty.settings()) == before
    restored = serve(empty)
    korean = restored.get(key, f"/api/v1/prompts/{ids['korean']}").json()
    assert korean["tags"] == ["동물", "강아지"]
    assert len(korean["outputs"]) == 1
    assert json.loads(empty("doctor", "--json").stdout)["rows_with_missing_files"] == []


def test_restore_into_a_non_empty_library_is_refused(
    source: Cli, empty: Cli, serve: Callable[[Cli], Server], tmp_path: Path
) -> None:
    build_library(serve(source).container)
    source("backup", str(tmp_path / "backup"))
    before = library_state(source.settings())
    refused = source("restore", str(tmp_path / "backup"), code=1)
    assert "restore needs an empty library" in refused.stderr
    assert library_state(source.settings()) == before

    # One user is enough to make a library not empty; nothing is copied into it.
    empty("users", "add", "carol")
    before = library_state(empty.settings())
    assert "needs an empty library" in empty("restore", str(tmp_path / "backup"), code=1).stderr
    assert library_state(empty.settings()) == before
    assert before["files"] == {}


def test_backup_into_a_non_empty_directory_is_refused(
    source: Cli, serve: Callable[[Cli], Server], tmp_path: Path
) -> None:
    build_library(serve(source).container)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    refused = source("backup", str(occupied), code=1)
    assert "exists and is not empty" in refused.stderr
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]
    assert (occupied / "notes.txt").read_text() == "mine"

    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    assert "is not a directory" in source("backup", str(a_file), code=1).stderr
    assert a_file.read_text() == "mine"

    empty_dir = tmp_path / "empty-dir"
    empty_dir.mkdir()
    assert "backed up" in source("backup", str(empty_dir)).stdout
    assert (empty_dir / "manifest.json").is_file()


def test_restore_refuses_what_is_not_a_whole_backup(
    source: Cli, empty: Cli, serve: Callable[[Cli], Server], tmp_path: Path
) -> None:
    for not_a_backup in (tmp_path / "missing", tmp_path):
        refused = empty("restore", str(not_a_backup), code=1)
        assert "is not a PromptCanvas backup" in refused.stderr

    build_library(serve(source).container)
    backup = tmp_path / "backup"
    source("backup", str(backup))
    blobs = sorted(p for p in (backup / "files" / "blobs").rglob("*") if p.is_file())
    blobs[-1].write_bytes(blobs[-1].read_bytes()[:-1] + b"\x00")
    refused = empty("restore", str(backup), code=1)
    assert "is corrupt" in refused.stderr
    state = library_state(empty.settings())
    assert state["files"] == {}
    assert all(rows == [] for rows in state["tables"].values())


def test_restore_refuses_damaged_rows_and_changes_nothing(
    source: Cli, empty: Cli, serve: Callable[[Cli], Server], tmp_path: Path
) -> None:
    build_library(serve(source).container)
    backup = tmp_path / "backup"
    source("backup", str(backup))
    prompts = backup / "db" / "prompts.jsonl"
    lines = prompts.read_text().splitlines()
    prompts.write_text("\n".join([*lines[:-1], lines[-1][: len(lines[-1]) // 2]]) + "\n")
    refused = empty("restore", str(backup), code=1)
    assert f"is damaged at line {len(lines)}" in refused.stderr

    prompts.write_text("\n".join(lines) + "\n")
    (backup / "manifest.json").write_text("{not json")
    assert "not a PromptCanvas backup" in empty("restore", str(backup), code=1).stderr
    state = library_state(empty.settings())
    assert state["files"] == {}
    assert all(rows == [] for rows in state["tables"].values())
