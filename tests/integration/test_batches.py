"""Batch re-runs, before/after comparisons and grids, on SQLite and PostgreSQL.

Jobs run synchronously through the runner (no worker threads), so every state is observable.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.ports.providers import ContentRejected
from promptcanvas.services.generate import GenerationRequest
from promptcanvas.services.grids import HEADER_HEIGHT, LABEL_WIDTH
from promptcanvas.settings import Settings
from tests.cli import Cli
from tests.conftest import Api
from tests.jobs import add_fake, drain, no_wait_retries

SMALL = {"width": 64, "height": 64}  # the local renderer is quick at this size
SUBJECTS = ["a red fox in the snow", "밤하늘 아래 고양이", "a lighthouse at dusk", "숲속의 작은 집"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Retries without waiting, so the runner can be driven synchronously.
    return no_wait_retries(settings)


def library(
    container: Container,
    owner_id: str,
    count: int,
    *,
    provider: str = "local",
    model: str = "sketch",
    version: str = "1",
    tags: tuple[str, ...] = (),
    params: dict[str, Any] | None = None,
) -> list[str]:
    """`count` prompts, each with one finished generation on provider:model@version."""
    ids = []
    for i in range(count):
        prompt = container.library.create_prompt(
            owner_id, text=f"{SUBJECTS[i % len(SUBJECTS)]} #{i}", tags=list(tags)
        )
        container.generations.submit(
            owner_id,
            GenerationRequest(
                provider=provider,
                model=model,
                model_version=version,
                prompt_id=prompt.id,
                params=dict(SMALL if params is None else params),
                seed=1000 + i,
            ),
        )
        ids.append(prompt.id)
    assert drain(container) == count
    return ids


def rerun(api: Api, code: int = 202, **body: Any) -> dict[str, Any]:
    body.setdefault("target", {"provider": "fake", "model": "toy", "model_version": "2"})
    response = api.post("/api/v1/batches", json=body)
    assert response.status_code == code, response.text
    return response.json()  # type: ignore[no-any-return]


def status(api: Api, batch_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/batches/{batch_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def pairs(api: Api, batch_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/batches/{batch_id}/compare")
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_rerun_200_prompts_on_a_new_version_and_compare(container: Container, alice: Api) -> None:
    ids = library(container, alice.user_id, 200)
    batch = rerun(
        alice,
        prompt_ids=ids,
        target={"provider": "local", "model": "sketch", "model_version": "2"},
        seeds="same",
    )
    assert batch["total"] == 200 and batch["status"] == "PENDING"
    assert "job_ids" not in batch
    queued = status(alice, batch["id"])
    assert queued["status"] == "PENDING" and queued["counts"]["pending"] == 200
    assert queued["eta_seconds"] is None

    assert drain(container) == 200
    done = status(alice, batch["id"])
    assert done["status"] == "SUCCESS"
    assert done["counts"] == {"pending": 0, "running": 0, "done": 200, "failed": 0, "cancelled": 0}
    assert done["progress"] == 1.0 and done["eta_seconds"] == 0.0
    assert done["target"] == {"provider": "local", "model": "sketch", "model_version": "2"}

    compared = pairs(alice, batch["id"])
    assert len(compared) == 200
    assert {p["prompt_id"] for p in compared} == set(ids)
    for pair in compared:
        before, after = pair["before"], pair["after"]
        assert (before["model_version"], after["model_version"]) == ("1", "2")
        assert after["status"] == "SUCCESS"
        assert after["seed"] == before["seed"] is not None
        assert after["source_generation_id"] == before["id"]
        assert isinstance(pair["figures"]["phash_distance"], int)
        assert 0 <= pair["figures"]["phash_distance"] <= 64
        assert 0.0 <= pair["figures"]["colour_distance"] <= 1.0
        assert pair["text"].endswith(f"#{ids.index(pair['prompt_id'])}")
    # Version 2 draws differently: the figures see it.
    assert sum(p["figures"]["phash_distance"] for p in compared) > 0

    view = alice.get(f"/api/v1/prompts/{ids[1]}/compare").json()
    assert [g["label"] for g in view["groups"]] == ["local:sketch@1", "local:sketch@2"]
    assert [g["succeeded"] for g in view["groups"]] == [1, 1]
    (step,) = view["pairs"]
    assert (step["before"], step["after"], step["matched_by"]) == (
        "local:sketch@1",
        "local:sketch@2",
        "seed",
    )
    assert step["compared"] == 1
    assert isinstance(step["mean_phash_distance"], float)
    assert step["total_cost_delta"] == 0.0

    targets = [
        {"provider": "local", "model": "sketch", "model_version": "1"},
        {"provider": "local", "model": "sketch", "model_version": "2"},
        {"provider": "openai", "model": "dall-e-3"},  # nothing made there: grey cells
    ]
    response = alice.post(
        "/api/v1/grids", json={"prompt_ids": ids[:3], "targets": targets, "cell_size": 64}
    )
    assert response.status_code == 201, response.text
    grid = response.json()
    size = (LABEL_WIDTH + 3 * 64, HEADER_HEIGHT + 3 * 64)
    assert (grid["width"], grid["height"]) == size
    image = Image.open(io.BytesIO(alice.get(grid["url"]).content))
    assert image.format == "PNG" and image.size == size
    assert json.loads(image.info["promptcanvas"])["prompt_ids"] == ids[:3]
    # A rendered cell is not the grey of an empty one; the third column is.
    middle = HEADER_HEIGHT + 32
    assert image.convert("RGB").getpixel((LABEL_WIDTH + 2 * 64 + 4, middle)) == (200, 200, 200)
    assert image.convert("RGB").getpixel((LABEL_WIDTH + 32, middle)) != (200, 200, 200)


def test_selection_by_query(container: Container, alice: Api) -> None:
    add_fake(container)
    cats = library(container, alice.user_id, 3, provider="fake", model="toy", tags=("cat",))
    library(container, alice.user_id, 2, provider="fake", model="toy", tags=("dog",))
    batch = rerun(alice, query={"tags": ["cat"]})
    assert batch["total"] == 3
    drain(container)
    assert {p["prompt_id"] for p in pairs(alice, batch["id"])} == set(cats)
    assert status(alice, batch["id"])["query"] == {"tags": ["cat"]}
    assert rerun(alice, query={"q": "lighthouse"})["total"] == 1
    assert rerun(alice, query={"model": "toy@1"})["total"] == 5
    nothing = rerun(alice, 422, query={"tags": ["unicorn"]})
    assert nothing["error"]["details"]["field"] == "query"


def test_bad_ids_are_named_and_nothing_is_created(
    container: Container, alice: Api, bob: Api
) -> None:
    add_fake(container)
    ids = library(container, alice.user_id, 2, provider="fake", model="toy")
    bobs = bob.create_prompt("bob's prompt")["id"]
    unknown = "0" * 26
    response = rerun(alice, 404, prompt_ids=[ids[0], unknown, "not-an-id", bobs])
    assert response["error"]["details"]["prompt_ids"] == [unknown, "not-an-id", bobs]
    alice.delete(f"/api/v1/prompts/{ids[1]}")
    trashed = rerun(alice, 409, prompt_ids=ids)
    assert trashed["error"]["details"]["prompt_ids"] == [ids[1]]
    wrong_version = {"provider": "fake", "model": "toy", "model_version": "9"}
    for body in (
        {"prompt_ids": [ids[0]], "query": {"q": "x"}},
        {},
        {"prompt_ids": []},
        {"prompt_ids": [ids[0]] * 10_001},
        {"prompt_ids": [ids[0]], "seeds": "some"},
        {"prompt_ids": [ids[0]], "target": {"provider": "nope", "model": "toy"}},
        {"prompt_ids": [ids[0]], "target": wrong_version},
        {"prompt_ids": [ids[0]], "params_override": {"quality": "hd"}},
        {"prompt_ids": [ids[0]], "params_override": {"width": 13}},
    ):
        rerun(alice, 422, **body)
    jobs = alice.get("/api/v1/jobs").json()["data"]
    assert len(jobs) == 2 and all(j["batch_id"] is None for j in jobs)  # only the two originals


def test_params_override_and_old_params_the_target_cannot_take(
    container: Container, alice: Api
) -> None:
    add_fake(container)
    ids = library(container, alice.user_id, 2, provider="fake", model="toy", params={"width": 32})
    batch = rerun(alice, prompt_ids=ids, params_override={"style": "bold"})
    drain(container)
    for pair in pairs(alice, batch["id"]):
        assert pair["after"]["parameters"]["style"] == "bold"
        assert pair["after"]["parameters"]["width"] == 32  # kept from the old output


def test_cancel_mid_way_then_retry(container: Container, alice: Api) -> None:
    fake = add_fake(container)
    ids = library(container, alice.user_id, 5, provider="fake", model="toy")
    batch = rerun(alice, prompt_ids=ids)
    calls = len(fake.calls)
    assert container.runner.run_next() and container.runner.run_next()
    cancelled = alice.post(f"/api/v1/batches/{batch['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "CANCELLED" and body["cancelled_at"] is not None
    assert (body["counts"]["done"], body["counts"]["cancelled"]) == (2, 3)
    assert drain(container) == 0 and len(fake.calls) == calls + 2
    assert alice.post(f"/api/v1/batches/{batch['id']}/cancel").status_code == 409
    statuses = sorted(p["after"]["status"] for p in pairs(alice, batch["id"]))
    assert statuses == ["CANCELLED"] * 3 + ["SUCCESS"] * 2

    retried = alice.post(f"/api/v1/batches/{batch['id']}/retry")
    assert retried.status_code == 200 and retried.json()["counts"]["pending"] == 3
    assert drain(container) == 3
    assert status(alice, batch["id"])["status"] == "SUCCESS"


def test_retry_failed_items(container: Container, alice: Api) -> None:
    fake = add_fake(container)
    ids = library(container, alice.user_id, 4, provider="fake", model="toy")
    fake.script.extend([ContentRejected("no"), ContentRejected("no")])
    batch = rerun(alice, prompt_ids=ids)
    assert drain(container) == 4
    failed = status(alice, batch["id"])
    assert failed["status"] == "FAILURE"
    assert (failed["counts"]["done"], failed["counts"]["failed"]) == (2, 2)
    assert failed["eta_seconds"] == 0.0
    lost = [p for p in pairs(alice, batch["id"]) if p["after"]["status"] == "FAILURE"]
    assert len(lost) == 2 and all(p["figures"] is None for p in lost)

    retried = alice.post(f"/api/v1/batches/{batch['id']}/retry").json()
    assert retried["counts"]["pending"] == 2 and retried["counts"]["failed"] == 0
    assert drain(container) == 2
    assert status(alice, batch["id"])["counts"]["done"] == 4
    assert alice.post(f"/api/v1/batches/{batch['id']}/retry").status_code == 409


def test_seeds_new_gives_different_seeds(container: Container, alice: Api) -> None:
    add_fake(container)
    ids = library(container, alice.user_id, 6, provider="fake", model="toy")
    batch = rerun(alice, prompt_ids=ids, seeds="new")
    drain(container)
    for pair in pairs(alice, batch["id"]):
        assert pair["after"]["seed"] is not None
        assert pair["after"]["seed"] != pair["before"]["seed"]


def test_prompts_without_an_output_run_with_a_fresh_seed(container: Container, alice: Api) -> None:
    add_fake(container)
    prompt = alice.create_prompt("nothing made yet")
    batch = rerun(alice, prompt_ids=[prompt["id"]])
    drain(container)
    (pair,) = pairs(alice, batch["id"])
    assert pair["before"] is None and pair["figures"] is None
    assert pair["after"]["status"] == "SUCCESS" and pair["after"]["seed"] is not None


def test_other_users_get_404(container: Container, alice: Api, bob: Api) -> None:
    add_fake(container)
    ids = library(container, alice.user_id, 1, provider="fake", model="toy")
    batch = rerun(alice, prompt_ids=ids)
    url = f"/api/v1/batches/{batch['id']}"
    for response in (
        bob.get(url),
        bob.get(f"{url}/compare"),
        bob.post(f"{url}/cancel"),
        bob.post(f"{url}/retry"),
        bob.get(f"/api/v1/prompts/{ids[0]}/compare"),
        bob.post(
            "/api/v1/grids",
            json={"prompt_ids": ids, "targets": [{"provider": "fake", "model": "toy"}]},
        ),
        bob.get("/api/v1/batches/not-an-id"),
    ):
        assert response.status_code == 404, response.text
    assert status(alice, batch["id"])["counts"]["pending"] == 1  # bob's cancel did nothing


def test_grid_limits(container: Container, alice: Api) -> None:
    add_fake(container)
    ids = library(container, alice.user_id, 1, provider="fake", model="toy")
    target = {"provider": "fake", "model": "toy"}
    for body in (
        {"prompt_ids": ids * 51, "targets": [target]},
        {"prompt_ids": ids, "targets": [target] * 11},
        {"prompt_ids": ids, "targets": [target], "cell_size": 8},
        {"prompt_ids": [], "targets": [target]},
    ):
        assert alice.post("/api/v1/grids", json=body).status_code == 422
    batch = rerun(alice, prompt_ids=ids)
    junk = alice.get(f"/api/v1/batches/{batch['id']}/compare", params={"cursor": "junk"})
    assert junk.status_code == 400


def test_cli_rerun_wait_status_and_compare(tmp_path: Path, database_url: str) -> None:
    cli = Cli(tmp_path / "data", database_url)
    container = bootstrap(cli.settings())
    try:
        owner = container.users.ensure_admin()[0].id
        library(container, owner, 2, tags=("cli",))
    finally:
        container.close()
    out = cli(
        "batch", "rerun", "--tag", "cli", "--to", "local:sketch@2", "--wait", "--workers", "2"
    )
    batch_id = out.stdout.split()[1].rstrip(":")
    assert "SUCCESS" in out.stdout
    assert cli.json("batch", "status", batch_id)["counts"]["done"] == 2
    compared = cli.json("batch", "compare", batch_id)["data"]
    assert [p["after"]["model_version"] for p in compared] == ["2", "2"]
    assert "batch not found" in cli("batch", "status", "0" * 26, code=1).stderr


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    ["prompt_ids", "query", "target", "params_override", "seeds", "targets", "cell_size"]
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(fields, json_values, max_size=5), override=json_values)
def test_no_input_gives_a_5xx(container: Container, alice: Api, body: Any, override: Any) -> None:
    add_fake(container)
    prompt = alice.search(limit=1) or [alice.create_prompt("fuzz target")]
    target = {"provider": "fake", "model": "toy"}
    for sent in (
        body,
        {"prompt_ids": [prompt[0]["id"]], "target": target, "params_override": override},
        {"query": override, "target": target},
        {"prompt_ids": [prompt[0]["id"]], "targets": [target], **body},
    ):
        for url in ("/api/v1/batches", "/api/v1/grids"):
            response = alice.post(url, json=sent)
            assert response.status_code < 500, (response.status_code, response.text)
            if response.status_code >= 400:
                assert set(response.json()["error"]) == {"code", "message", "details"}
