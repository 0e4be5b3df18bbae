"""Requests racing on the same thing end in a consistent state, on SQLite and PostgreSQL.

Each test releases its threads at once (a barrier) through the app's HTTP client; the app runs
each request on its own worker thread with its own database connection, so the requests really
meet in the database.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from promptcanvas.adapters.db.tables import assets, jobs, projects
from promptcanvas.bootstrap import Container
from tests import factories
from tests.conftest import Api

THREADS = 12


def at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run call(0..count-1) on `count` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except Exception as exc:  # reported below, so a crash cannot pass for a result
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    crashed = [r for r in results if isinstance(r, Exception)]
    assert crashed == [], crashed
    return results


def assert_clean(responses: list[Any], allowed: set[int]) -> None:
    """Every answer has an allowed status; every error is the JSON error shape."""
    unexpected = [(r.status_code, r.text[:300]) for r in responses if r.status_code not in allowed]
    assert unexpected == []
    for r in responses:
        if r.status_code >= 400:
            assert set(r.json()["error"]) >= {"code", "message"}


def all_prompts(api: Api) -> list[dict[str, Any]]:
    """Every live prompt of the user, page by page."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _page in range(100):
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        response = api.get("/api/v1/prompts", params=params)
        assert response.status_code == 200, response.text
        found += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("listing did not end")


def test_racing_revisions_of_one_prompt_form_one_whole_tree(alice: Api) -> None:
    root = alice.create_prompt("a lighthouse at dusk, 등대")
    output = alice.upload(factories.png(20, 20, (9, 9, 9)), prompt_id=root["id"])
    assert output.status_code == 201, output.text  # with an output the root is immutable

    first = at_once(
        THREADS,
        lambda i: alice.post(
            f"/api/v1/prompts/{root['id']}/revisions", json={"text": f"lighthouse take {i}"}
        ),
    )
    assert_clean(first, {201, 409})
    children = [r.json() for r in first if r.status_code == 201]
    assert children, "no revision succeeded"
    # A second wave revises those revisions, two threads on each, at once.
    second = at_once(
        THREADS,
        lambda i: alice.post(
            f"/api/v1/prompts/{children[i % len(children)]['id']}/revisions",
            json={"text": f"lighthouse take {i % len(children)}, night {i}"},
        ),
    )
    assert_clean(second, {201, 409})
    grandchildren = [r.json() for r in second if r.status_code == 201]

    lineage = alice.get(f"/api/v1/prompts/{root['id']}/lineage")
    assert lineage.status_code == 200, lineage.text
    nodes = lineage.json()["data"]
    seen = Counter(n["id"] for n in nodes)
    expected = [root["id"], *(c["id"] for c in children), *(g["id"] for g in grandchildren)]
    assert seen == Counter(expected)  # every successful revision exactly once, nothing else
    by_id = {n["id"]: n for n in nodes}
    for child in children:
        assert by_id[child["id"]]["parent_id"] == root["id"]
        assert by_id[child["id"]]["depth"] == 1
    for grandchild in grandchildren:
        assert by_id[grandchild["parent_id"]]["parent_id"] == root["id"]
        assert by_id[grandchild["id"]]["depth"] == 2
    assert alice.get(f"/api/v1/prompts/{root['id']}").json()["output_count"] == 1

    # No orphans: every listed prompt's parent is a listed prompt.
    listed = all_prompts(alice)
    ids = {p["id"] for p in listed}
    assert ids == set(expected)
    assert all(p["parent_id"] in ids for p in listed if p["parent_id"] is not None)


def blobs_of(files: Path, sha: str) -> list[Path]:
    """Stored files whose name is this content hash (blob or thumbnail)."""
    return [p for p in files.rglob(f"{sha}*") if p.is_file()]


def test_racing_uploads_of_the_same_bytes_store_one_file(
    alice: Api, bob: Api, container: Container, tmp_path: Path
) -> None:
    data = factories.png(40, 30, (1, 2, 3))
    sha = hashlib.sha256(data).hexdigest()
    prompt = alice.create_prompt("the same picture, 같은 그림")

    def upload(i: int) -> Any:
        if i % 2:
            return bob.upload(data, f"b{i}.png")
        return alice.upload(data, f"a{i}.png", prompt_id=prompt["id"])

    responses = at_once(THREADS, upload)
    assert_clean(responses, {200, 201})
    for user in (0, 1):
        mine = [r for i, r in enumerate(responses) if i % 2 == user]
        # Exactly one request stored the asset; the others were told it existed already.
        assert sorted(r.status_code for r in mine) == [200] * (len(mine) - 1) + [201]
        assert len({r.json()["id"] for r in mine}) == 1
    alice_ids = {r.json()["id"] for i, r in enumerate(responses) if i % 2 == 0}
    bob_ids = {r.json()["id"] for i, r in enumerate(responses) if i % 2 == 1}
    assert alice_ids != bob_ids  # one row per owner ...

    with container.db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(assets.c.owner_id, assets.c.storage_key).where(assets.c.sha256 == sha)
        ).all()
    assert sorted(r.owner_id for r in rows) == sorted([alice.user_id, bob.user_id])
    assert len({r.storage_key for r in rows}) == 1  # ... both on one stored file
    files = tmp_path / "files"
    stored = blobs_of(files, sha)
    assert len(stored) == 2, stored  # the blob and its thumbnail, once each
    assert list(files.rglob("*.part")) == []  # no half-written temp file left
    blob = next(p for p in stored if p.name == sha)
    assert blob.read_bytes() == data

    # The prompt got one output holding the asset, not one per racing request.
    detail = alice.get(f"/api/v1/prompts/{prompt['id']}").json()
    assert [[a["id"] for a in o["assets"]] for o in detail["outputs"]] == [list(alice_ids)]
    assert detail["output_count"] == 1


def test_racing_attachments_of_bytes_already_stored_make_one_output(alice: Api) -> None:
    data = factories.png(33, 33, (4, 5, 6))
    stored = alice.upload(data, "first.png")
    assert stored.status_code == 201, stored.text
    prompt = alice.create_prompt("an old picture attached to a new prompt")

    responses = at_once(THREADS, lambda i: alice.upload(data, f"{i}.png", prompt_id=prompt["id"]))
    assert_clean(responses, {200})
    assert {r.json()["id"] for r in responses} == {stored.json()["id"]}
    detail = alice.get(f"/api/v1/prompts/{prompt['id']}").json()
    assert [[a["id"] for a in o["assets"]] for o in detail["outputs"]] == [[stored.json()["id"]]]
    assert detail["output_count"] == 1


def test_racing_creations_of_one_project_name_make_one_project(
    alice: Api, container: Container
) -> None:
    responses = at_once(
        THREADS,
        lambda i: alice.post("/api/v1/projects", json={"name": "Spring 봄", "description": f"{i}"}),
    )
    assert_clean(responses, {201, 409})
    assert [r.status_code for r in responses].count(201) == 1
    assert all(r.json()["error"]["code"] == "conflict" for r in responses if r.status_code == 409)
    listed = alice.get("/api/v1/projects").json()["data"]
    assert [p["name"] for p in listed] == ["Spring 봄"]
    with container.db.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(projects)).scalar_one()
    assert count == 1


def test_racing_prompts_with_one_new_tag_count_it_once(alice: Api) -> None:
    responses = at_once(
        THREADS,
        lambda i: alice.post("/api/v1/prompts", json={"text": f"tagged {i}", "tags": ["새벽"]}),
    )
    assert_clean(responses, {201})
    tags = alice.get("/api/v1/tags").json()["data"]
    assert tags == [{"name": "새벽", "count": THREADS}]
    assert len(alice.search(tag="새벽", limit=200)) == THREADS


def test_racing_submissions_with_one_idempotency_key_make_one_job(
    alice: Api, container: Container
) -> None:
    prompt = alice.create_prompt("one job however often it is sent")
    body = {"prompt_id": prompt["id"], "idempotency_key": "once-only", "seed": 7}
    responses = at_once(THREADS, lambda _i: alice.post("/api/v1/generations", json=body))
    # One request makes the job; every other one is answered with that same job (200), also
    # when it lost the race between looking for the key and storing its own job.
    assert_clean(responses, {200, 202})
    assert [r.status_code for r in responses].count(202) == 1
    assert len({r.json()["job_id"] for r in responses}) == 1
    with container.db.engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(jobs).where(jobs.c.kind == "generate")
        ).scalar_one()
    assert count == 1
