"""Schemathesis over the whole OpenAPI description, authenticated, with real data seeded.

Every operation gets generated requests, valid ones and invalid ones, half of them aimed at
objects that exist. Whatever comes back must not be a 5xx, must carry a documented status
code, and must match the documented schema for it.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from promptcanvas.bootstrap import Container
from tests.conftest import Api, make_api
from tests.factories import png

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Examples per operation and mode: enough to hit every documented branch a few times while the
# whole file stays at a few minutes on a loaded 2-core machine.
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 12}
# GET /api/v1/jobs/events is a server-sent event stream that only ends after 10 minutes or
# when the client goes away; an in-process client reads a response to its end, so it would
# never return. tests/integration/test_job_events.py covers it with a reader that hangs up.
EXCLUDED = {("GET", "/api/v1/jobs/events")}


def _made(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    return response.json()  # type: ignore[no-any-return]


def _seed(alice: Api) -> dict[str, list[str]]:
    """Real objects of alice's, by the path parameter names that take their ids."""
    project = _made(alice.post("/api/v1/projects", json={"name": "contract project"}))
    prompt = alice.create_prompt("a lighthouse at dusk", tags=["sea"], project_id=project["id"])
    child = _made(alice.post(f"/api/v1/prompts/{prompt['id']}/revisions", json={"text": "at dawn"}))
    uploaded = _made(alice.upload(png(), prompt_id=prompt["id"]))
    portfolio = _made(alice.post("/api/v1/portfolios", json={"title": "contract portfolio"}))
    queued = _made(alice.post("/api/v1/generations", json={"prompt_id": child["id"]}))
    ended = _made(alice.post("/api/v1/generations", json={"text": "a gull"}))
    _made(alice.post(f"/api/v1/jobs/{ended['job_id']}/cancel"))
    target = {"provider": "local", "model": "sketch", "model_version": "2"}
    batch = _made(
        alice.post("/api/v1/batches", json={"prompt_ids": [prompt["id"]], "target": target})
    )
    key = _made(alice.post("/api/v1/keys", json={"name": "spare"}))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("old/fox.png", png(color=(1, 2, 3)))
    imported = _made(alice.post("/api/v1/imports", files={"file": ("old.zip", archive.getvalue())}))
    return {
        "prompt_id": [prompt["id"], child["id"]],
        "asset_id": [uploaded["id"]],
        "generation_id": [uploaded["generation_id"], *queued["generation_ids"]],
        "project_id": [project["id"]],
        "portfolio_id": [portfolio["id"]],
        "job_id": [queued["job_id"]],
        # the event stream of a job ends only once the job has; cancelling makes sure of that
        "job_id/events": [ended["job_id"]],
        "batch_id": [batch["id"]],
        "key_id": [key["id"]],
        "import_id": [imported["id"]],
    }


def _real_ids(path: str, ids: dict[str, list[str]]) -> dict[str, list[str]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    found = {}
    for name in names:
        special = f"{name}/{path.rsplit('/', 1)[-1]}"
        found[name] = ids.get(special) or ids.get(name) or []
    return found


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    real: dict[str, list[str]],
    auth: Any,
    seen: set[int],
) -> None:
    # half the requests name objects that exist, so the 2xx paths are fuzzed too
    aims = st.booleans() if real and all(real.values()) else st.just(False)

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), aim=aims, data=st.data())
    def run(case: Any, aim: bool, data: st.DataObject) -> None:
        if aim:
            for name, choices in real.items():
                case.path_parameters[name] = data.draw(st.sampled_from(choices))
        response = case.call_and_validate(headers=auth, checks=CHECKS)
        seen.add(response.status_code)

    run()


def test_every_operation_conforms_to_the_openapi_description(
    container: Container, client: TestClient
) -> None:
    alice = make_api(container, client, "alice")
    ids = _seed(alice)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    ran = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    # deletions last, so the other operations still find the seeded objects
    for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):
        label = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        for mode in EXAMPLES:
            try:
                seen = statuses.setdefault(label, set())
                _fuzz(operation, mode, _real_ids(operation.path, ids), alice.headers, seen)
            except Unsatisfiable:
                # nothing of this operation can be made invalid (free-form string ids only)
                assert mode is GenerationMode.NEGATIVE, label
            # every operation's failures (an exception group) are reported together below
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{label} [{mode}]: {exc}")
            ran += 1
    assert ran > 100, f"only {ran} operation/mode runs: is the OpenAPI description loading?"
    assert not failures, "\n\n".join(failures)
    reached = {label for label, seen in statuses.items() if any(200 <= s < 300 for s in seen)}
    assert len(reached) >= 0.8 * len(statuses), f"too few 2xx: {statuses}"
