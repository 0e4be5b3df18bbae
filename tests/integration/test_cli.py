"""The `promptcanvas` command, driven in-process against a real database of each kind."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from promptcanvas.adapters.db import migrate
from promptcanvas.bootstrap import bootstrap
from promptcanvas.entrypoints.api.app import create_app
from tests.cli import Cli
from tests.factories import png


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    """The CLI on a fresh, migrated library."""
    return Cli(tmp_path / "data", database_url)


@pytest.fixture
def api(cli: Cli) -> Iterator[TestClient]:
    """The HTTP app over the same library the CLI writes to."""
    container = bootstrap(cli.settings())
    try:
        with TestClient(create_app(container)) as client:
            yield client
    finally:
        container.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_users_add_then_duplicate_is_refused(cli: Cli) -> None:
    assert "created user alice" in cli("users", "add", "alice").stdout
    duplicate = cli("users", "add", "alice", code=1)
    assert "user 'alice' exists" in duplicate.stderr
    assert "Traceback" not in duplicate.output
    bad = cli("users", "add", "no spaces please", code=1)
    assert "user name" in bad.stderr
    assert [u["name"] for u in cli.json("users", "list")] == ["alice"]


def test_created_key_works_until_revoked(cli: Cli, api: TestClient) -> None:
    cli("users", "add", "alice")
    created = cli.json("keys", "create", "--user", "alice")
    assert created["user"] == "alice"
    key = created["key"]
    assert key.startswith("pck_")

    assert api.get("/api/v1/prompts").status_code == 401
    response = api.post("/api/v1/prompts", json={"text": "a fox"}, headers=bearer(key))
    assert response.status_code == 201, response.text

    listed = cli("keys", "list", "--user", "alice", "--json").stdout
    assert key not in listed  # shown once, never again
    (entry,) = json.loads(listed)
    assert entry["id"] == created["id"]
    assert key.startswith(entry["prefix"])
    assert entry["revoked_at"] is None

    assert (
        f"revoked {created['id']}" in cli("keys", "revoke", created["id"], "--user", "alice").stdout
    )
    assert api.get("/api/v1/prompts", headers=bearer(key)).status_code == 401
    (entry,) = cli.json("keys", "list", "--user", "alice")
    assert entry["revoked_at"] is not None
    assert "key not found" in cli("keys", "revoke", created["id"], "--user", "alice", code=1).stderr


def test_key_for_unknown_user_is_refused(cli: Cli) -> None:
    result = cli("keys", "create", "--user", "nobody", "--json", code=1)
    assert "no user named 'nobody'" in result.stderr
    assert result.stdout == ""


def test_login_link_signs_a_browser_in_once(cli: Cli, api: TestClient) -> None:
    cli("users", "add", "alice")
    url = cli("users", "login-link", "alice").stdout.strip()
    parts = urlsplit(url)
    assert parts.path == "/auth/login"
    (token,) = parse_qs(parts.query)["token"]

    first = api.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("pc_session=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "alice" in api.get("/").text

    api.cookies.clear()
    second = api.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert second.status_code == 401
    assert "set-cookie" not in second.headers
    assert "alice" not in api.get("/").text
    assert "no user named 'bob'" in cli("users", "login-link", "bob", code=1).stderr


KOREAN = "귀여운 강아지가 뛰노는 밝은 영상"
ENGLISH = "a happy puppy running on the beach"


def test_prompts_add_list_search_show(cli: Cli) -> None:
    korean = cli.json("prompts", "add", KOREAN, "--tag", "동물", "--category", "video")
    english = cli.json(
        "prompts", "add", ENGLISH, "-n", "blurry", "-t", "dog", "-t", "beach", "-p", "Summer"
    )
    assert korean["language"] == "ko"
    assert korean["tags"] == ["동물"]
    assert english["tags"] == ["dog", "beach"] or sorted(english["tags"]) == ["beach", "dog"]
    assert english["negative_text"] == "blurry"
    assert english["project_id"] is not None

    listed = cli.json("prompts", "list")
    assert [p["id"] for p in listed["data"]] == [english["id"], korean["id"]]
    assert listed["next_cursor"] is None
    assert [p["id"] for p in cli.json("prompts", "list", "--tag", "dog")["data"]] == [english["id"]]

    assert [p["id"] for p in cli.json("prompts", "search", "강아지")["data"]] == [korean["id"]]
    assert [p["id"] for p in cli.json("prompts", "search", "영상")["data"]] == [korean["id"]]
    assert [p["id"] for p in cli.json("prompts", "search", "puppy")["data"]] == [english["id"]]
    assert cli.json("prompts", "search", "고양이")["data"] == []

    shown = cli.json("prompts", "show", korean["id"])
    assert shown["text"] == KOREAN
    assert shown["outputs"] == []
    assert [n["id"] for n in shown["lineage"]["data"]] == [korean["id"]]

    text = cli("prompts", "show", korean["id"]).stdout
    assert KOREAN in text


def test_prompts_default_to_the_admin_user(cli: Cli) -> None:
    added = cli.json("prompts", "add", "눈 내리는 산타마을 풍경")
    assert [u["name"] for u in cli.json("users", "list")] == ["admin"]
    assert [p["id"] for p in cli.json("prompts", "search", "풍경")["data"]] == [added["id"]]
    cli("users", "add", "bob")
    assert cli.json("prompts", "list", "--user", "bob")["data"] == []
    assert "prompt not found" in cli("prompts", "show", added["id"], "-u", "bob", code=1).stderr


def test_revise_twice_gives_a_lineage_of_three_and_a_word_diff(cli: Cli) -> None:
    first = cli.json("prompts", "add", "a red fox in the snow", "-t", "fox")
    second = cli.json("prompts", "revise", first["id"], "--text", "a red fox in the deep snow")
    third = cli.json(
        "prompts",
        "revise",
        second["id"],
        "--text",
        "a silver fox in the deep snow",
        "-t",
        "fox",
        "-t",
        "winter",
        "-m",
        "colder",
    )
    assert second["parent_id"] == first["id"]
    assert third["parent_id"] == second["id"]
    assert third["note"] == "colder"

    lineage = cli.json("prompts", "show", third["id"])["lineage"]
    assert lineage["root_id"] == first["id"]
    assert [(n["id"], n["depth"], n["is_current"]) for n in lineage["data"]] == [
        (first["id"], 0, False),
        (second["id"], 1, False),
        (third["id"], 2, True),
    ]
    # The first prompt is unchanged by its revisions.
    assert cli.json("prompts", "show", first["id"])["text"] == "a red fox in the snow"

    diff = cli.json("prompts", "diff", first["id"], third["id"])
    assert (diff["from_id"], diff["to_id"]) == (first["id"], third["id"])
    changed = [op for op in diff["text"]["ops"] if op["op"] != "equal"]
    assert {(op["op"], op["a"].strip(), op["b"].strip()) for op in changed} == {
        ("replace", "red", "silver"),
        ("insert", "", "deep"),
    }
    assert diff["tags"]["added"] == ["winter"]
    assert diff["tags"]["removed"] == []
    assert not diff["identical"]
    plain = cli("prompts", "diff", first["id"], third["id"]).stdout
    assert "silver" in plain and "winter" in plain


def test_prompt_errors_are_messages_not_tracebacks(cli: Cli) -> None:
    empty = cli("prompts", "add", "   ", code=1)
    assert "text" in empty.stderr
    missing = cli("prompts", "show", "01aaaaaaaaaaaaaaaaaaaaaaaa", code=1)
    assert "prompt not found" in missing.stderr
    assert "prompt not found" in cli("prompts", "revise", "nope", "--text", "x", code=1).stderr
    assert cli.json("prompts", "list")["data"] == []


def test_db_upgrade_is_idempotent(cli: Cli) -> None:
    head = migrate.head_revision()
    assert f"database at revision {head}" in cli("db", "upgrade").stdout
    assert f"database at revision {head}" in cli("db", "upgrade").stdout
    assert cli("db", "current").stdout.strip() == f"{head} (head: {head})"


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "mysql://localhost/nope")
    result = cli("users", "list", code=2)
    assert "database URL must start with" in result.stderr


def test_doctor_reports_and_repairs(cli: Cli, api: TestClient) -> None:
    empty = cli.json("doctor")
    assert empty["consistent"] is True and empty["problems"] == 0
    assert {k: empty[k] for k in ("scanned_files", "orphaned_files", "deleted_files")} == {
        "scanned_files": 0,
        "orphaned_files": 0,
        "deleted_files": 0,
    }
    assert empty["rows_with_missing_files"] == []
    cli("users", "add", "alice")
    key = cli.json("keys", "create", "--user", "alice")["key"]
    kept = api.post(
        "/api/v1/assets", files={"file": ("a.png", png(color=(1, 2, 3)))}, headers=bearer(key)
    ).json()
    lost = api.post(
        "/api/v1/assets", files={"file": ("b.png", png(color=(4, 5, 6)))}, headers=bearer(key)
    ).json()
    files = cli.data_dir / "files"
    orphan = files / "blobs" / "ab" / "00" / ("ab00" + "0" * 60)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left behind by a crash")
    lost_blob = next(files.glob(f"blobs/**/{lost['sha256']}"))
    lost_blob.unlink()

    result = cli("doctor", "--json", code=1)
    report = json.loads(result.stdout)
    assert report["rows_with_missing_files"] == [lost["id"]]
    assert report["orphaned_files"] == 1
    assert report["deleted_files"] == 0
    assert orphan.exists()

    repaired = json.loads(cli("doctor", "--repair", "--json", code=1).stdout)
    assert repaired["deleted_files"] == 1
    assert not orphan.exists()
    assert next(files.glob(f"blobs/**/{kept['sha256']}")).is_file()
    assert json.loads(cli("doctor", "--json", code=1).stdout)["orphaned_files"] == 0


def test_doctor_repair_removes_stale_temp_files_of_crashed_uploads(cli: Cli) -> None:
    temp = cli.data_dir / "files" / ".tmp"
    temp.mkdir(parents=True)
    stale = temp / "crashed.part"
    stale.write_bytes(b"half an upload")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    in_progress = temp / "in-progress.part"
    in_progress.write_bytes(b"a put still being written")

    assert cli.json("doctor")["deleted_temp_files"] == 0
    assert stale.exists()
    assert cli.json("doctor", "--repair")["deleted_temp_files"] == 1
    assert not stale.exists()
    assert in_progress.exists()
