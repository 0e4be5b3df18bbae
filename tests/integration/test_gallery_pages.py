"""The gallery and timeline pages: shown to the owner, sign-in otherwise, nothing leaks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from promptcanvas.bootstrap import Container
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.settings import Settings
from tests.conftest import Api
from tests.integration.test_outputs_api import T0, add_outputs


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No background indexing thread."""
    return settings.model_copy(update={"semantic_background": False})


def browser(container: Container, name: str) -> TestClient:
    """A client signed in as `name` by the one-time link, as a browser is."""
    client = TestClient(create_app(container))
    token = container.users.create_login_token(name)
    response = client.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert response.status_code == 303
    return client


def cards(html: str) -> list[str]:
    return re.findall(r'class="g-card[^"]*" data-generation="([0-9a-z]+)"', html)


def test_gallery_shows_the_owners_outputs_and_nobody_elses(
    container: Container, alice: Api, bob: Api
) -> None:
    mine = add_outputs(container, alice, alice.create_prompt("a fox <b>in</b> snow")["id"], 3)
    theirs = add_outputs(container, bob, bob.create_prompt("bob's secret castle")["id"], 2)
    page = browser(container, "alice").get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert cards(page.text) == list(reversed(mine))
    assert "a fox &lt;b&gt;in&lt;/b&gt; snow" in page.text  # escaped, used as alt text too
    assert 'alt="a fox &lt;b&gt;in&lt;/b&gt; snow"' in page.text
    assert "secret castle" not in page.text and not set(theirs) & set(cards(page.text))
    assert f'href="/prompts/{alice.search()[0]["id"]}"' in page.text
    bobs = browser(container, "bob").get("/")
    assert cards(bobs.text) == list(reversed(theirs)) and "a fox" not in bobs.text


def test_logged_out_visitors_get_the_sign_in_page(container: Container, alice: Api) -> None:
    add_outputs(container, alice, alice.create_prompt("private work")["id"], 1)
    client = TestClient(create_app(container))
    home = client.get("/")
    assert home.status_code == 200 and "private work" not in home.text
    assert "promptcanvas users login-link" in home.text
    timeline = client.get("/timeline")
    assert timeline.status_code == 401 and "private work" not in timeline.text


def test_filters_paging_link_and_trash_view(container: Container, alice: Api) -> None:
    sea = alice.create_prompt("stormy sea", tags=["sea"])
    cat = alice.create_prompt("sleepy cat", tags=["pet"])
    sea_out = add_outputs(container, alice, sea["id"], 3)
    cat_out = add_outputs(container, alice, cat["id"], 2, start=T0 + timedelta(days=1))
    client = browser(container, "alice")
    assert set(cards(client.get("/", params={"tag": "sea"}).text)) == set(sea_out)
    first = client.get("/", params={"limit": 2})
    assert cards(first.text) == list(reversed(cat_out))
    more = re.search(r'id="g-more" href="([^"]+)"', first.text)
    assert more, "a no-script link to the next page"
    second = client.get(more.group(1).replace("&amp;", "&"))
    assert cards(second.text) == list(reversed(sea_out))[:2]
    alice.post("/api/v1/outputs/trash", json={"generation_ids": cat_out})
    assert set(cards(client.get("/").text)) == set(sea_out)
    trash = client.get("/", params={"trashed": "true"})
    assert set(cards(trash.text)) == set(cat_out) and 'id="g-restore"' in trash.text


def test_empty_states_tell_what_to_do_next(container: Container, alice: Api) -> None:
    client = browser(container, "alice")
    empty = client.get("/")
    assert empty.status_code == 200
    assert 'href="/upload"' in empty.text and "promptcanvas import" in empty.text
    add_outputs(container, alice, alice.create_prompt("a cat")["id"], 1)
    none = client.get("/", params={"tag": "nothing"})
    assert "Nothing matches" in none.text and "Clear filters" in none.text
    korean = client.get("/", params={"lang": "ko", "tag": "nothing"})
    assert "일치하는 결과가 없습니다" in korean.text


def test_bad_filters_get_a_friendly_page_not_an_error(container: Container, alice: Api) -> None:
    add_outputs(container, alice, alice.create_prompt("a cat")["id"], 1)
    client = browser(container, "alice")
    for params in (
        {"sort": "sideways"},
        {"since": "last week"},
        {"limit": "0"},
        {"cursor": "forged"},
        {"project_id": "nope"},
        {"since": "2026-03-05", "until": "2026-03-01"},
    ):
        response = client.get("/", params=params)
        assert response.status_code in (400, 422), params
        assert 'role="alert"' in response.text and "text/html" in response.headers["content-type"]
        timeline = client.get("/timeline", params=params)
        assert (
            timeline.status_code in (200, 400, 422)
            and "text/html" in timeline.headers["content-type"]
        )


def test_timeline_groups_by_day_and_project(container: Container, alice: Api) -> None:
    project = alice.post("/api/v1/projects", json={"name": "Winter series"}).json()
    snow = alice.create_prompt("snow fox", project_id=project["id"])
    loose = alice.create_prompt("loose sketch")
    add_outputs(container, alice, snow["id"], 2, start=T0)
    add_outputs(container, alice, loose["id"], 1, start=T0 + timedelta(minutes=5))
    add_outputs(container, alice, snow["id"], 1, start=T0 + timedelta(days=2))
    client = browser(container, "alice")
    page = client.get("/timeline")
    assert page.status_code == 200
    days = re.findall(r'class="tl-day" data-day="([0-9-]+)"', page.text)
    assert days == ["2026-03-03", "2026-03-01"]
    assert page.text.count('data-format="day"') == 2
    assert "Winter series" in page.text and "Without a project" in page.text
    client.cookies.set("pc_tz", "Asia/Seoul")
    seoul = client.get("/timeline")
    assert 'data-tz="Asia/Seoul"' in seoul.text
    client.cookies.set("pc_tz", "../../etc/passwd")
    odd = client.get("/timeline")
    assert odd.status_code == 200 and 'data-tz="UTC"' in odd.text
