"""The jobs, upload and settings pages as the server renders them (before any script runs)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from promptcanvas.bootstrap import Container
from promptcanvas.domain.ids import new_id
from promptcanvas.domain.jobs import Job, JobStatus
from promptcanvas.domain.users import csrf_token
from promptcanvas.ports.jobs import Batch
from tests.conftest import Api


def sign_in(container: Container, client: TestClient, name: str) -> str:
    """Sign the client's browser session in as `name`; returns the page's CSRF token."""
    token = container.users.create_login_token(name)
    assert client.get(f"/auth/login?token={token}", follow_redirects=False).status_code == 303
    session = client.cookies.get("pc_session")
    assert session
    return csrf_token(session)


def add_job(
    container: Container,
    owner_id: str,
    text: str,
    status: JobStatus = JobStatus.PENDING,
    *,
    batch_id: str | None = None,
    minutes_ago: int = 0,
    error: str | None = None,
) -> Job:
    now = container.clock.now() - timedelta(minutes=minutes_ago)
    target = {"provider": "local", "model": "sketch", "model_version": "2", "request": {}}
    job = Job(
        id=new_id(),
        owner_id=owner_id,
        kind="generate",
        payload={"prompt_id": new_id(), "text": text, "targets": [target]},
        created_at=now,
        run_after=now,
        updated_at=now,
        status=status,
        batch_id=batch_id,
        error=error,
        attempts=1 if error else 0,
    )
    with container.runner.uow() as uow:
        uow.jobs.add_many([job])
        uow.commit()
    return job


def assert_strict_page(html: str) -> None:
    """No inline script or style: the page works under the strict CSP."""
    assert 'style="' not in html and "onclick" not in html
    assert "built-in method" not in html  # a string key that clashes with a dict method
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


@pytest.mark.parametrize("path", ["/jobs", "/upload", "/settings"])
def test_pages_ask_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert "text/html" in response.headers["content-type"]
    assert "not signed in" in response.text


def test_jobs_page_lists_my_jobs_grouped_by_batch(
    container: Container, client: TestClient, alice: Api, bob: Api
) -> None:
    batch = Batch(
        id=new_id(),
        owner_id=alice.user_id,
        provider="local",
        model="sketch",
        model_version="2",
        params_override={},
        seeds="same",
        query=None,
        total=2,
        created_at=container.clock.now(),
    )
    with container.runner.uow() as uow:
        uow.jobs.add_batch(batch)
        uow.commit()
    add_job(
        container,
        alice.user_id,
        "an old failure",
        JobStatus.FAILURE,
        minutes_ago=9,
        error="the provider refused the prompt",
    )
    add_job(
        container, alice.user_id, "batch one", JobStatus.SUCCESS, batch_id=batch.id, minutes_ago=2
    )
    add_job(container, alice.user_id, "batch two", batch_id=batch.id, minutes_ago=1)
    waiting = add_job(container, alice.user_id, "a waiting <fox>")
    add_job(container, bob.user_id, "bob's private job")
    sign_in(container, client, "alice")

    html = client.get("/jobs").text
    assert_strict_page(html)
    assert "bob&#39;s private job" not in html and "bob's private job" not in html
    assert "a waiting &lt;fox&gt;" in html  # escaped
    assert f'href="/prompts/{waiting.payload["prompt_id"]}"' in html
    assert f'href="/batches/{batch.id}"' in html
    assert "1 of 2 finished" in html
    assert "the provider refused the prompt" in html
    assert "local · sketch@2" in html
    # The batch's jobs sit together inside its group.
    group = html[html.index(f'id="batch-{batch.id}"') :]
    assert group.index("batch two") < group.index("batch one") < group.index("an old failure")

    active = client.get("/jobs?show=active").text
    assert "a waiting &lt;fox&gt;" in active and "batch two" in active
    assert "an old failure" not in active and "batch one" not in active

    korean = client.get("/jobs?lang=ko").text
    assert "대기 중" in korean and "일괄 작업 열기" in korean


@pytest.mark.parametrize(
    "query", ["?cursor=garbage", "?cursor=" + "x" * 600, "?show=everything", "?show=" + "x" * 50]
)
def test_jobs_page_survives_odd_queries(
    container: Container, client: TestClient, alice: Api, query: str
) -> None:
    sign_in(container, client, "alice")
    response = client.get("/jobs" + query)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_empty_jobs_page_says_what_to_do(
    container: Container, client: TestClient, alice: Api
) -> None:
    sign_in(container, client, "alice")
    html = client.get("/jobs").text
    assert "No jobs yet" in html
    assert "Nothing is running" in client.get("/jobs?show=active").text


def test_upload_page_attaches_to_my_prompt_only(
    container: Container, client: TestClient, alice: Api, bob: Api
) -> None:
    mine = alice.create_prompt("a tea house in the rain")
    theirs = bob.create_prompt("bob's secret prompt")
    sign_in(container, client, "alice")
    plain = client.get("/upload")
    assert plain.status_code == 200
    assert_strict_page(plain.text)
    assert 'for="upload-files"' in plain.text and "multiple" in plain.text
    attached = client.get(f"/upload?prompt={mine['id']}").text
    assert "a tea house in the rain" in attached
    assert f'name="prompt_id" value="{mine["id"]}"' in attached
    for other in (theirs["id"], "nope", "0" * 26, "x" * 500):
        response = client.get(f"/upload?prompt={other}")
        assert response.status_code == 404
        assert "bob&#39;s secret prompt" not in response.text
        assert "text/html" in response.headers["content-type"]


def test_settings_page_lists_keys_without_secrets_and_providers(
    container: Container, client: TestClient, alice: Api
) -> None:
    made = container.users.create_key_for(alice.user_id, "render test")
    sign_in(container, client, "alice")
    html = client.get("/settings").text
    assert_strict_page(html)
    assert "render test" in html and made.key.prefix in html
    assert made.secret not in html and alice.key not in html
    assert 'data-provider="local"' in html and "sketch" in html
    assert 'href="/settings?lang=ko"' in html
    assert "한국어" in html and "API 키" in client.get("/settings?lang=ko").text


def test_theme_form_sets_the_cookie(container: Container, client: TestClient, alice: Api) -> None:
    csrf = sign_in(container, client, "alice")
    done = client.post(
        "/settings/theme", data={"csrf": csrf, "theme": "dark"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/settings"
    assert client.cookies.get("pc_theme") == "dark"
    assert 'data-theme="dark"' in client.get("/settings").text
    bad_theme = client.post("/settings/theme", data={"csrf": csrf, "theme": "neon"})
    assert bad_theme.status_code == 400 and "Choose one of the themes" in bad_theme.text
    forged = client.post("/settings/theme", data={"csrf": "forged", "theme": "light"})
    assert forged.status_code == 403
    assert client.cookies.get("pc_theme") == "dark"
