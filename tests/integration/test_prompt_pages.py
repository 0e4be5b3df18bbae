"""The prompt, compare and batch pages: what they render, in both languages, and 404s."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from promptcanvas.bootstrap import Container
from tests.conftest import Api, make_api
from tests.jobs import drain


def sign_in(container: Container, client: TestClient, name: str) -> None:
    """Give the test client a browser session for `name` (an existing user)."""
    token = container.users.create_login_token(name)
    r = client.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert r.status_code == 303


def generate(api: Api, container: Container, prompt_id: str, version: str, seed: int) -> str:
    """Run one sketch generation to its end; returns the generation id."""
    r = api.post(
        "/api/v1/generations",
        json={
            "prompt_id": prompt_id,
            "provider": "local",
            "model": "sketch",
            "model_version": version,
            "seed": seed,
            "params": {"width": 128, "height": 128},
        },
    )
    assert r.status_code == 202, r.text
    drain(container)
    return r.json()["generation_ids"][0]  # type: ignore[no-any-return]


@pytest.fixture
def page(container: Container, client: TestClient, alice: Api) -> TestClient:
    """The client signed in as alice in the browser."""
    sign_in(container, client, "alice")
    return client


def html(client: TestClient, url: str, status: int = 200, **kw: Any) -> str:
    r = client.get(url, **kw)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    return r.text


def test_prompt_page_shows_outputs_lineage_and_the_diff_from_its_parent(
    page: TestClient, alice: Api, container: Container
) -> None:
    root = alice.create_prompt(
        "a red fox in the snow", negative_text="blurry", tags=["fox"], category="animals"
    )
    generate(alice, container, root["id"], "1", 7)
    r = alice.post(
        f"/api/v1/prompts/{root['id']}/revisions",
        json={"text": "a red fox in the deep snow at dusk", "tags": ["fox", "winter"]},
    )
    child = r.json()

    text = html(page, f"/prompts/{root['id']}", params={"lang": "en"})
    assert "a red fox in the snow" in text and "blurry" in text and "animals" in text
    assert "local:sketch@1" in text  # the outputs' group
    assert "/api/v1/assets/" in text and "/thumbnail" in text
    assert "Steps: 1" in text and "Seed: 7" in text  # the A1111 text to copy
    assert "<summary>Parameters</summary>" in text and "<dt>width</dt><dd>128</dd>" in text
    assert f'href="/prompts/{child["id"]}"' in text  # the child in the lineage tree
    assert 'class="tree-node is-current"' in text

    text = html(page, f"/prompts/{child['id']}")
    assert "<ins>deep </ins>" in text or "<ins>deep" in text
    assert "<ins>" in text and "at dusk" in text
    assert "+winter" in text  # the tag change
    assert "Save revision" in text and "Generate" in text
    assert 'value="2" selected' in text  # sketch's default version offered

    korean = html(page, f"/prompts/{child['id']}", params={"lang": "ko"})
    assert "버전 기록" in korean and "바뀐 내용" in korean and "새 버전 저장" in korean
    assert 'lang="ko"' in korean


def test_output_fragment_is_one_card(page: TestClient, alice: Api, container: Container) -> None:
    prompt = alice.create_prompt("a lighthouse in a storm")
    gen = generate(alice, container, prompt["id"], "2", 3)
    text = html(page, f"/prompts/{prompt['id']}/outputs/{gen}")
    assert f'data-id="{gen}"' in text and 'data-label="local:sketch@2"' in text
    assert "<html" not in text
    html(page, f"/prompts/{prompt['id']}/outputs/nope", 404)


def test_other_users_and_unknown_ids_get_the_not_found_page(
    page: TestClient, alice: Api, bob: Api, container: Container
) -> None:
    secret = bob.create_prompt("bob's secret castle")
    generate(bob, container, secret["id"], "1", 1)
    batch = bob.post(
        "/api/v1/batches",
        json={
            "prompt_ids": [secret["id"]],
            "target": {"provider": "local", "model": "sketch", "model_version": "2"},
        },
    ).json()
    mine = alice.create_prompt("mine")
    for url in [
        f"/prompts/{secret['id']}",
        f"/prompts/{secret['id']}/compare",
        f"/prompts/{secret['id']}/outputs/x",
        f"/batches/{batch['id']}",
        f"/batches/{batch['id']}/compare?pair=1",
        f"/batches/{batch['id']}/pairs",
        "/prompts/does-not-exist",
        "/prompts/" + "x" * 300,
        "/batches/nope",
    ]:
        text = html(page, url, 404, params={"lang": "en"})
        assert "not yours" in text, url
        assert "secret castle" not in text
    for bad in ["abc", "0", "-1", "2", "99999999999999", "1.5"]:
        html(page, f"/batches/{batch['id']}/compare", 404, params={"pair": bad})
    html(page, f"/prompts/{mine['id']}/compare", 200, params={"a": "' or 1=1", "b": "x" * 5000})


def test_pages_need_a_browser_session(client: TestClient, alice: Api) -> None:
    prompt = alice.create_prompt("only for alice")
    r = client.get(f"/prompts/{prompt['id']}")
    assert r.status_code == 401 and "only for alice" not in r.text
    r = client.get(f"/prompts/{prompt['id']}", headers=alice.headers)  # an API key is no session
    assert r.status_code == 401


def test_compare_page_defaults_to_oldest_and_newest_versions(
    page: TestClient, alice: Api, container: Container
) -> None:
    prompt = alice.create_prompt("a quiet harbour at dawn, watercolor")
    old = generate(alice, container, prompt["id"], "1", 11)
    middle = generate(alice, container, prompt["id"], "1", 12)
    new = generate(alice, container, prompt["id"], "2", 11)
    text = html(page, f"/prompts/{prompt['id']}/compare", params={"lang": "en"})
    assert re.search(rf'<option value="{old}" selected', text)
    assert re.search(rf'<option value="{new}" selected', text)
    assert "Shape difference" in text and "Colour difference" in text
    assert "local:sketch@1" in text and "local:sketch@2" in text
    assert 'role="slider"' in text and "Model and version changes" in text
    chosen = html(page, f"/prompts/{prompt['id']}/compare", params={"a": middle, "b": old})
    assert re.search(rf'<option value="{middle}" selected', chosen)
    korean = html(page, f"/prompts/{prompt['id']}/compare", params={"lang": "ko"})
    assert "슬라이더" in korean and "형태 차이" in korean

    lonely = alice.create_prompt("nothing made yet")
    text = html(page, f"/prompts/{lonely['id']}/compare", params={"lang": "en"})
    assert "Nothing to compare yet" in text


def test_batch_page_progress_pairs_and_pair_compare(
    page: TestClient, alice: Api, container: Container
) -> None:
    a = alice.create_prompt("a red fox in the snow")
    b = alice.create_prompt("푸른 바다 위의 등대")
    for p in (a, b):
        generate(alice, container, p["id"], "1", 5)
    r = alice.post(
        "/api/v1/batches",
        json={
            "prompt_ids": [a["id"], b["id"]],
            "target": {"provider": "local", "model": "sketch", "model_version": "2"},
        },
    )
    assert r.status_code == 202, r.text
    batch_id = r.json()["id"]

    waiting = html(page, f"/batches/{batch_id}", params={"lang": "en"})
    assert "Waiting in the queue" in waiting and "0 of 2 finished" in waiting
    assert "local:sketch@2" in waiting
    drain(container)
    done = html(page, f"/batches/{batch_id}", params={"lang": "en"})
    assert "2 of 2 finished" in done
    assert done.count('class="bt-pair"') == 2
    assert f"/batches/{batch_id}/compare?pair=2" in done
    assert "푸른 바다 위의 등대" in done

    for cursor, start in [("garbage", "x"), ("e30", "-3"), ("%00" * 50, "99999999999")]:
        again = html(page, f"/batches/{batch_id}", params={"cursor": cursor, "start": start})
        assert again.count('class="bt-pair"') == 2 and "#1" in again

    fragment = html(page, f"/batches/{batch_id}/pairs")
    assert fragment.count('class="bt-pair"') == 2 and "<html" not in fragment

    pair = html(page, f"/batches/{batch_id}/compare", params={"pair": "1", "lang": "en"})
    assert "Pair 1 of 2" in pair and 'role="slider"' in pair
    assert "local:sketch@1" in pair and "local:sketch@2" in pair
    assert "Shape difference" in pair
    korean = html(page, f"/batches/{batch_id}", params={"lang": "ko"})
    assert "이전과 이후" in korean and "일괄 다시 실행" in korean


def test_bob_cannot_reach_alice_pages_through_his_own_session(
    container: Container, client: TestClient, alice: Api
) -> None:
    prompt = alice.create_prompt("alice's private idea")
    make_api(container, client, "carol")
    sign_in(container, client, "carol")
    text = html(client, f"/prompts/{prompt['id']}", 404)
    assert "private idea" not in text


def test_a_revision_is_compared_with_its_earlier_revisions(
    page: TestClient, alice: Api, container: Container
) -> None:
    root = alice.create_prompt("a quiet harbour at dawn")
    before = generate(alice, container, root["id"], "1", 5)
    revised = alice.post(
        f"/api/v1/prompts/{root['id']}/revisions", json={"text": "a quiet harbour at dusk"}
    ).json()
    link = rf'id="compare-link" href="/prompts/{revised["id"]}/compare"'
    assert re.search(link + " hidden>", html(page, f"/prompts/{revised['id']}"))
    after = generate(alice, container, revised["id"], "2", 5)
    assert re.search(link + ">", html(page, f"/prompts/{revised['id']}"))
    text = html(page, f"/prompts/{revised['id']}/compare", params={"lang": "en"})
    assert re.search(rf'<option value="{before}" selected>[^<]*earlier revision', text)
    assert re.search(rf'<option value="{after}" selected', text)
    assert "Shape difference" in text
    # the earlier revision itself has nothing later to compare with
    alone = html(page, f"/prompts/{root['id']}/compare", params={"lang": "en"})
    assert "Nothing to compare yet" in alone
