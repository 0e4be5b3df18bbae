"""Portfolio and project pages, and the public share page: what it shows and what it never does."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from promptcanvas.bootstrap import Container
from promptcanvas.domain.users import csrf_token
from tests.conftest import Api
from tests.factories import png
from tests.jobs import drain


def uploaded(api: Api, text: str, color: tuple[int, int, int]) -> tuple[str, str, str]:
    prompt = api.create_prompt(text)
    r = api.upload(png(color=color), prompt_id=prompt["id"])
    assert r.status_code == 201, r.text
    return prompt["id"], r.json()["generation_id"], r.json()["id"]


def sign_in(container: Container, client: TestClient, name: str) -> str:
    """Sign the client's browser session in; returns the page CSRF token."""
    token = container.users.create_login_token(name)
    client.get("/auth/login", params={"token": token}, follow_redirects=False)
    session = client.cookies.get("pc_session")
    assert session
    return csrf_token(session)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_public_page_shows_items_in_order_and_nothing_private(
    alice: Api, container: Container, client: TestClient
) -> None:
    _, g1, a1 = uploaded(alice, "a fox under the northern lights", (10, 20, 200))
    p2, g2, a2 = uploaded(alice, "여우와 오로라 <script>alert(1)</script>", (200, 20, 10))
    _, g3, a3 = uploaded(alice, "SECRET unshared prompt", (20, 200, 10))
    shared = alice.post(
        "/api/v1/portfolios",
        json={"title": "Aurora", "description": "Night studies", "generation_ids": [g1, g2]},
    ).json()
    alice.patch(
        f"/api/v1/portfolios/{shared['id']}",
        json={"items": [{"asset_id": a2, "caption": "오로라 아래에서"}, {"asset_id": a1}]},
    )
    other = alice.post(
        "/api/v1/portfolios", json={"title": "Hidden drafts", "generation_ids": [g3]}
    ).json()
    url = alice.post(f"/api/v1/portfolios/{shared['id']}/publish").json()["share_url"]
    r = client.get(path_of(url))
    assert r.status_code == 200
    html = r.text
    assert "Aurora" in html and "Night studies" in html and "오로라 아래에서" in html
    assert "a fox under the northern lights" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert html.index(a2) < html.index(a1)  # the chosen order
    # nothing private: no owner, no keys, no storage, no other items or portfolios, no app
    asset = container.assets.get(alice.user_id, a1)
    for secret in (
        "alice",
        alice.user_id,
        alice.key,
        alice.key[:12],
        asset.storage_key,
        asset.sha256,
        "blobs/",
        "Hidden drafts",
        other["id"],
        a3,
        "SECRET unshared prompt",
        shared["id"],
        p2,
        g1,
        "csrf",
        "/api/v1",
        "/prompts/",
        'href="/"',
        "<script",
    ):
        assert secret not in html, secret
    assert r.headers["x-robots-tag"].startswith("noindex")
    assert "no-store" in r.headers["cache-control"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in r.headers or "pc_session" not in r.headers["set-cookie"]


def test_public_images_answer_only_for_the_portfolios_public_items(
    alice: Api, bob: Api, client: TestClient
) -> None:
    p1, g1, a1 = uploaded(alice, "in the portfolio", (1, 2, 250))
    _, _, outside = uploaded(alice, "not in it", (250, 2, 1))
    _, _, bobs = uploaded(bob, "bob's", (2, 250, 1))
    made = alice.post(
        "/api/v1/portfolios", json={"title": "T", "generation_ids": [g1], "public": True}
    ).json()
    base = path_of(made["share_url"])
    full = client.get(f"{base}/i/{a1}")
    assert full.status_code == 200 and full.headers["content-type"] == "image/png"
    assert full.content.startswith(b"\x89PNG")
    assert "no-store" in full.headers["cache-control"]
    assert full.headers["x-robots-tag"].startswith("noindex")
    thumb = client.get(f"{base}/t/{a1}")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    for path in (
        f"{base}/i/{outside}",
        f"{base}/i/{bobs}",
        f"{base}/t/{outside}",
        f"{base}/i/not-an-id",
        f"/p/{'A' * 32}/i/{a1}",
        f"/p/short/i/{a1}",
    ):
        assert client.get(path).status_code == 404, path
    # an item whose prompt goes to the trash leaves the public page and its file stops
    assert alice.delete(f"/api/v1/prompts/{p1}").status_code == 204
    assert client.get(f"{base}/i/{a1}").status_code == 404
    page = client.get(base)
    assert page.status_code == 200 and "in the portfolio" not in page.text
    editor = alice.get(f"/api/v1/portfolios/{made['id']}").json()
    assert editor["items"][0]["in_trash"] is True  # the owner still sees it, marked


def test_unknown_malformed_and_revoked_tokens_are_a_404_page(
    alice: Api, client: TestClient
) -> None:
    _, g1, a1 = uploaded(alice, "gone soon", (9, 9, 9))
    made = alice.post(
        "/api/v1/portfolios", json={"title": "Brief", "generation_ids": [g1], "public": True}
    ).json()
    base = path_of(made["share_url"])
    assert client.get(base).status_code == 200
    alice.post(f"/api/v1/portfolios/{made['id']}/unpublish")
    for path in (base, f"{base}/i/{a1}", "/p/x", f"/p/{'A' * 32}", "/p/%00", f"/p/{'é' * 32}"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "text/html" in r.headers["content-type"]
        assert "Brief" not in r.text and "gone soon" not in r.text
        assert r.headers["x-robots-tag"].startswith("noindex")


def test_portfolio_pages_for_the_signed_in_owner(
    alice: Api, bob: Api, container: Container, client: TestClient
) -> None:
    _, g1, a1 = uploaded(alice, "a quiet harbour", (30, 30, 90))
    made = alice.post(
        "/api/v1/portfolios", json={"title": "Harbour", "generation_ids": [g1], "public": True}
    ).json()
    theirs = bob.post("/api/v1/portfolios", json={"title": "Bob's own"}).json()
    assert client.get("/portfolios").status_code == 401  # the sign-in page
    csrf = sign_in(container, client, "alice")
    listing = client.get("/portfolios")
    assert listing.status_code == 200
    assert "Harbour" in listing.text and "Bob's own" not in listing.text
    editor = client.get(f"/portfolios/{made['id']}")
    assert editor.status_code == 200
    assert a1 in editor.text and made["share_url"] in editor.text
    assert "/static/portfolio.js" in editor.text
    for path in (f"/portfolios/{theirs['id']}", "/portfolios/nope", "/portfolios/%2e%2e"):
        r = client.get(path)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"], path
    assert "Bob's own" not in client.get(f"/portfolios/{theirs['id']}").text
    # the new-portfolio form: CSRF checked, a clear error for a blank title, then created
    r = client.post("/portfolios", data={"title": "Form made", "csrf": "forged"})
    assert r.status_code == 403
    r = client.post("/portfolios", data={"title": "   ", "csrf": csrf})
    assert r.status_code == 422 and "title must not be empty" in r.text
    assert len(alice.get("/api/v1/portfolios").json()["data"]) == 1
    r = client.post(
        "/portfolios", data={"title": "Form made", "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/portfolios/")
    assert "Form made" in client.get(r.headers["location"]).text
    korean = client.get("/portfolios?lang=ko")
    assert "새 포트폴리오" in korean.text


def test_project_pages_list_counts_outputs_and_portfolios(
    alice: Api, bob: Api, container: Container, client: TestClient
) -> None:
    csrf = sign_in(container, client, "alice")
    r = client.get("/projects")
    assert r.status_code == 200 and "No projects yet" in r.text
    r = client.post(
        "/projects",
        data={"name": "Seaside", "description": "Summer", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    project_id = r.headers["location"].rsplit("/", 1)[1]
    duplicate = client.post("/projects", data={"name": "Seaside", "csrf": csrf})
    assert duplicate.status_code == 409 and "exists" in duplicate.text
    assert client.post("/projects", data={"name": "", "csrf": csrf}).status_code == 422
    assert client.post("/projects", data={"name": "x", "csrf": "no"}).status_code == 403
    empty = client.get(f"/projects/{project_id}")
    assert "No outputs in this project yet" in empty.text
    prompt = alice.create_prompt("waves at noon", project_id=project_id)
    alice.upload(png(color=(0, 90, 200)), prompt_id=prompt["id"])
    alice.upload(png(color=(0, 91, 200)), prompt_id=prompt["id"])
    listing = client.get("/projects")
    assert "Seaside" in listing.text and "1 prompts" in listing.text
    assert "2 outputs" in listing.text
    page = client.get(f"/projects/{project_id}")
    assert page.status_code == 200
    assert f"/?project_id={project_id}" in page.text
    assert f"/timeline?project_id={project_id}" in page.text
    assert page.text.count('alt="waves at noon"') == 2
    # "new portfolio from this project" fills it with the project's outputs
    r = client.post(
        "/portfolios",
        data={"title": "Seaside", "project_id": project_id, "fill": "1", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    pid = r.headers["location"].rsplit("/", 1)[1]
    assert len(alice.get(f"/api/v1/portfolios/{pid}").json()["items"]) == 2
    assert f"/portfolios/{pid}" in client.get(f"/projects/{project_id}").text
    bobs = bob.post("/api/v1/projects", json={"name": "Bob's"}).json()
    for path in (f"/projects/{bobs['id']}", "/projects/nope"):
        assert client.get(path).status_code == 404
    r = client.post(
        "/portfolios", data={"title": "x", "project_id": bobs["id"], "fill": "1", "csrf": csrf}
    )
    assert r.status_code == 404


def test_api_share_url_uses_the_public_base_url(
    container: Container, alice: Api, client: Any
) -> None:
    container.portfolios.base_url = "https://studio.example"
    made = alice.post("/api/v1/portfolios", json={"title": "x", "public": True}).json()
    assert made["share_url"].startswith("https://studio.example/p/")
    assert client.get(path_of(made["share_url"])).status_code == 200


def test_public_generated_file_carries_its_prompt_but_not_its_owner(
    alice: Api, container: Container, client: TestClient
) -> None:
    prompt = alice.create_prompt("a kite over the dunes")
    queued = alice.post("/api/v1/generations", json={"prompt_id": prompt["id"], "seed": 3})
    assert queued.status_code == 202, queued.text
    drain(container)
    made = alice.post(
        "/api/v1/portfolios",
        json={"title": "Kites", "prompt_ids": [prompt["id"]], "public": True},
    ).json()
    asset = made["items"][0]["asset_id"]
    data = client.get(f"{path_of(made['share_url'])}/i/{asset}").content
    assert b"a kite over the dunes" in data
    assert alice.user_id.encode() not in data and b"alice" not in data
