"""No input produces a 5xx: random bodies, query strings and ids against every prompt route."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "text",
        "negative_text",
        "category",
        "tags",
        "language",
        "starred",
        "rating",
        "author",
        "project_id",
        "note",
        "parent_id",
        "id",
        "owner_id",
    ]
)
bodies = st.one_of(json_values, st.dictionaries(field_names, json_values, max_size=6))
params = st.dictionaries(
    st.sampled_from(
        [
            "q",
            "tag",
            "category",
            "project",
            "model",
            "starred",
            "since",
            "until",
            "sort",
            "cursor",
            "limit",
            "trashed",
            "against",
            "purge",
        ]
    ),
    st.text(max_size=30),
    max_size=5,
)
ids = st.one_of(st.text(max_size=30), st.just("01m7yf121f41pmmnabp8402beg"))
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _ok(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}


@FUZZ
@given(body=bodies)
def test_create_never_fails_with_5xx(alice: Api, body: Any) -> None:
    _ok(alice.post("/api/v1/prompts", json=body))


@FUZZ
@given(body=bodies, query=params)
def test_edits_never_fail_with_5xx(alice: Api, body: Any, query: dict[str, str]) -> None:
    existing = alice.search(limit=1)
    pid = existing[0]["id"] if existing else alice.create_prompt("fuzz target")["id"]
    _ok(alice.patch(f"/api/v1/prompts/{pid}", json=body))
    _ok(alice.post(f"/api/v1/prompts/{pid}/revisions", json=body))
    _ok(alice.get(f"/api/v1/prompts/{pid}/diff", params=query))


@FUZZ
@given(query=params)
def test_listing_never_fails_with_5xx(alice: Api, query: dict[str, str]) -> None:
    _ok(alice.get("/api/v1/prompts", params=query))


@FUZZ
@given(prompt_id=ids, query=params)
def test_id_routes_never_fail_with_5xx(alice: Api, prompt_id: str, query: dict[str, str]) -> None:
    safe = quote(prompt_id, safe="") or "x"
    for method, path in [
        ("get", ""),
        ("get", "/lineage"),
        ("delete", ""),
        ("post", "/restore"),
        ("get", "/diff"),
    ]:
        _ok(getattr(alice, method)(f"/api/v1/prompts/{safe}{path}", params=query))
    _ok(alice.get(f"/api/v1/assets/{safe}/content"))
    _ok(alice.get(f"/api/v1/projects/{safe}"))
