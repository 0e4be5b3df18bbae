"""/api/v1/portfolios: build, order, caption, cover, publish, revoke, delete, export."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from PIL import Image

from promptcanvas.bootstrap import Container
from tests.conftest import Api
from tests.factories import png
from tests.jobs import drain

TOKEN_URL = re.compile(r"^http://127\.0\.0\.1:8000/p/([A-Za-z0-9_-]{22,})$")


def generate(api: Api, container: Container, text: str, n: int = 1) -> tuple[str, list[str]]:
    """A prompt with `n` sketch outputs made by the job runner; (prompt id, generation ids)."""
    prompt = api.create_prompt(text)
    r = api.post("/api/v1/generations", json={"prompt_id": prompt["id"], "n": n, "seed": 7})
    assert r.status_code == 202, r.text
    drain(container)
    return prompt["id"], r.json()["generation_ids"]


def uploaded(api: Api, text: str, color: tuple[int, int, int]) -> tuple[str, str, str]:
    """A prompt with one uploaded output; (prompt id, generation id, asset id)."""
    prompt = api.create_prompt(text)
    r = api.upload(png(color=color), prompt_id=prompt["id"])
    assert r.status_code == 201, r.text
    return prompt["id"], r.json()["generation_id"], r.json()["id"]


def create(api: Api, **body: Any) -> dict[str, Any]:
    r = api.post("/api/v1/portfolios", json={"title": "Winter", **body})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def count(api: Api) -> int:
    return len(api.get("/api/v1/portfolios").json()["data"])


def test_create_from_prompts_takes_every_output_in_order(alice: Api, container: Container) -> None:
    first, _ = generate(alice, container, "a red fox in the snow", n=2)
    second, _, asset = uploaded(alice, "눈 속의 여우", (10, 200, 30))
    made = create(alice, prompt_ids=[second, first], description="Foxes")
    assert [i["prompt_id"] for i in made["items"]] == [second, first, first]
    assert made["items"][0]["asset_id"] == asset
    assert made["items"][0]["prompt_text"] == "눈 속의 여우"
    assert [i["position"] for i in made["items"]] == [0, 1, 2]
    assert made["share_url"] is None and made["published"] is False
    assert made["cover_asset_id"] == asset
    assert made["items"][0]["thumbnail_url"] == f"/api/v1/assets/{asset}/thumbnail"
    assert alice.get(f"/api/v1/portfolios/{made['id']}").json() == made


def test_public_create_returns_an_absolute_unguessable_share_url(
    alice: Api, container: Container, client: Any
) -> None:
    _, generation, _ = uploaded(alice, "a lighthouse", (0, 0, 200))
    made = create(alice, generation_ids=[generation], public=True)
    match = TOKEN_URL.match(made["share_url"])
    assert match, made["share_url"]
    assert len(match.group(1)) >= 22  # >= 128 bits of base64url
    page = client.get(f"/p/{match.group(1)}")
    assert page.status_code == 200 and "a lighthouse" in page.text


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "   "},
        {"title": "x", "prompt_ids": [], "generation_ids": []},
        {"title": "x", "prompt_ids": "abc"},
        {"title": "x", "public": "yes"},
        {"title": "x", "owner_id": "someone"},
        {"title": "x" * 500},
        {"title": "x", "prompt_ids": ["a"] * 501},
        {"title": "bad\x00title"},
    ],
)
def test_bad_create_input_is_422_and_creates_nothing(alice: Api, body: dict[str, Any]) -> None:
    r = alice.post("/api/v1/portfolios", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_input"
    assert count(alice) == 0


def test_unknown_or_foreign_ids_are_404_and_create_nothing(alice: Api, bob: Api) -> None:
    mine, my_generation, _ = uploaded(alice, "mine", (1, 2, 3))
    theirs, their_generation, _ = uploaded(bob, "theirs", (4, 5, 6))
    for body in (
        {"prompt_ids": [mine, theirs]},
        {"prompt_ids": ["not-an-id"]},
        {"generation_ids": [my_generation, their_generation]},
        {"generation_ids": ["01hzzzzzzzzzzzzzzzzzzzzzzz"]},
        {"project_id": "01hzzzzzzzzzzzzzzzzzzzzzzz"},
    ):
        r = alice.post("/api/v1/portfolios", json={"title": "t", **body})
        assert r.status_code == 404, (body, r.text)
        assert r.json()["error"]["code"] == "not_found"
    assert count(alice) == 0


def test_every_route_answers_404_for_another_users_portfolio(alice: Api, bob: Api) -> None:
    _, generation, asset = uploaded(alice, "private fox", (9, 9, 9))
    pid = create(alice, generation_ids=[generation], public=True)["id"]
    _, bob_generation, _ = uploaded(bob, "bob's", (8, 8, 8))
    calls = [
        bob.get(f"/api/v1/portfolios/{pid}"),
        bob.patch(f"/api/v1/portfolios/{pid}", json={"title": "mine now"}),
        bob.post(f"/api/v1/portfolios/{pid}/items", json={"generation_ids": [bob_generation]}),
        bob.post(f"/api/v1/portfolios/{pid}/publish"),
        bob.post(f"/api/v1/portfolios/{pid}/unpublish"),
        bob.get(f"/api/v1/portfolios/{pid}/export"),
        bob.delete(f"/api/v1/portfolios/{pid}"),
        alice.get("/api/v1/portfolios/01hzzzzzzzzzzzzzzzzzzzzzzz"),
        alice.get("/api/v1/portfolios/..%2F..%2Fetc"),
    ]
    for r in calls:
        assert r.status_code == 404, r.text
    assert bob.get("/api/v1/portfolios").json()["data"] == []
    after = alice.get(f"/api/v1/portfolios/{pid}").json()
    assert after["title"] == "Winter" and after["published"] is True
    assert [i["asset_id"] for i in after["items"]] == [asset]


def test_patch_reorders_captions_removes_and_sets_the_cover(alice: Api) -> None:
    ids = [uploaded(alice, f"prompt {n}", (n * 40, 10, 10)) for n in range(3)]
    made = create(alice, generation_ids=[g for _, g, _ in ids])
    a, b, c = (asset for _, _, asset in ids)
    url = f"/api/v1/portfolios/{made['id']}"
    r = alice.patch(url, json={"cover_asset_id": b})
    assert r.status_code == 200 and r.json()["cover_asset_id"] == b
    r = alice.patch(
        url,
        json={
            "title": "  Final  cut ",
            "description": "Line one\nline two",
            "items": [{"asset_id": c, "caption": "첫 번째"}, {"asset_id": a}],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["title"] == "Final cut" and body["description"] == "Line one\nline two"
    assert [(i["asset_id"], i["caption"], i["position"]) for i in body["items"]] == [
        (c, "첫 번째", 0),
        (a, "", 1),
    ]
    assert body["cover_asset_id"] == c  # the chosen cover went with its item: first item now
    r = alice.patch(url, json={"items": [{"asset_id": a}, {"asset_id": c}]})
    assert [i["caption"] for i in r.json()["items"]] == ["", "첫 번째"]  # captions kept
    r = alice.patch(url, json={"cover_asset_id": None})
    assert r.json()["cover_asset_id"] == a


def test_bad_patch_is_422_and_changes_nothing(alice: Api, bob: Api) -> None:
    ids = [uploaded(alice, f"p{n}", (n * 50, 50, 50)) for n in range(2)]
    made = create(alice, generation_ids=[g for _, g, _ in ids])
    a, b = (asset for _, _, asset in ids)
    _, _, bobs = uploaded(bob, "bob", (1, 1, 1))
    _, _, other = uploaded(alice, "not in it", (2, 2, 2))
    url = f"/api/v1/portfolios/{made['id']}"
    for body in (
        {"items": [{"asset_id": a}, {"asset_id": other}]},
        {"items": [{"asset_id": a}, {"asset_id": bobs}]},
        {"items": [{"asset_id": a}, {"asset_id": a}]},
        {"items": [{"asset_id": a, "caption": "x" * 2001}]},
        {"items": [{"asset_id": a, "caption": "bell\x07"}], "title": "changed"},
        {"items": "all"},
        {"cover_asset_id": other},
        {"title": ""},
        {"title": "changed", "cover_asset_id": bobs},
        {"share_token": "mine"},
    ):
        r = alice.patch(url, json=body)
        assert r.status_code == 422, (body, r.text)
    assert alice.get(url).json() == made
    assert [i["asset_id"] for i in made["items"]] == [a, b]


def test_add_items_appends_and_skips_outputs_already_there(alice: Api, bob: Api) -> None:
    _, first, a = uploaded(alice, "one", (1, 100, 1))
    _, second, b = uploaded(alice, "two", (1, 1, 100))
    made = create(alice, generation_ids=[first])
    url = f"/api/v1/portfolios/{made['id']}/items"
    r = alice.post(url, json={"generation_ids": [second, first, second]})
    assert r.status_code == 200, r.text
    assert [i["asset_id"] for i in r.json()["items"]] == [a, b]
    _, theirs, _ = uploaded(bob, "three", (3, 3, 3))
    assert alice.post(url, json={"generation_ids": [theirs]}).status_code == 404
    assert alice.post(url, json={"generation_ids": []}).status_code == 422
    assert alice.post(url, json={}).status_code == 422
    assert len(alice.get(f"/api/v1/portfolios/{made['id']}").json()["items"]) == 2


def test_publish_makes_a_new_link_each_time_and_unpublish_revokes_at_once(
    alice: Api, client: Any
) -> None:
    _, generation, _ = uploaded(alice, "share me", (50, 60, 70))
    pid = create(alice, generation_ids=[generation])["id"]
    first = alice.post(f"/api/v1/portfolios/{pid}/publish").json()["share_url"]
    second = alice.post(f"/api/v1/portfolios/{pid}/publish").json()["share_url"]
    assert first != second
    first_path, second_path = (u.removeprefix("http://127.0.0.1:8000") for u in (first, second))
    assert client.get(first_path).status_code == 404
    assert client.get(second_path).status_code == 200
    listed = alice.get("/api/v1/portfolios").json()["data"][0]
    assert listed["share_url"] == second and listed["published"] is True
    r = alice.post(f"/api/v1/portfolios/{pid}/unpublish")
    assert r.status_code == 200 and r.json()["share_url"] is None
    assert client.get(second_path).status_code == 404


def test_delete_removes_the_portfolio_and_its_link_but_not_the_outputs(
    alice: Api, client: Any
) -> None:
    _, generation, asset = uploaded(alice, "keep me", (5, 50, 5))
    made = create(alice, generation_ids=[generation], public=True)
    assert alice.delete(f"/api/v1/portfolios/{made['id']}").status_code == 204
    assert alice.get(f"/api/v1/portfolios/{made['id']}").status_code == 404
    assert alice.delete(f"/api/v1/portfolios/{made['id']}").status_code == 404
    assert client.get(made["share_url"].removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert alice.get(f"/api/v1/assets/{asset}").status_code == 200


def test_list_pages_with_a_cursor_last_changed_first(alice: Api) -> None:
    made = [create(alice, title=f"P{n}")["id"] for n in range(5)]
    alice.patch(f"/api/v1/portfolios/{made[0]}", json={"description": "touched"})
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = alice.get("/api/v1/portfolios", params=params).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen[0] == made[0] and sorted(seen) == sorted(made) and len(seen) == 5
    bad = alice.get("/api/v1/portfolios", params={"cursor": "garbage"})
    assert bad.status_code == 400
    assert alice.get("/api/v1/portfolios", params={"limit": 0}).status_code == 422


def test_export_is_a_self_contained_zip_with_metadata(alice: Api, container: Container) -> None:
    prompt_id, generations = generate(alice, container, "a paper crane at dawn", n=2)
    _, upload_generation, _ = uploaded(alice, "종이학 <b>", (200, 100, 0))
    made = create(alice, prompt_ids=[prompt_id])
    pid = made["id"]
    alice.post(f"/api/v1/portfolios/{pid}/items", json={"generation_ids": [upload_generation]})
    items = alice.get(f"/api/v1/portfolios/{pid}").json()["items"]
    alice.patch(
        f"/api/v1/portfolios/{pid}",
        json={
            "items": [{"asset_id": items[2]["asset_id"], "caption": "Crane & sun"}]
            + [{"asset_id": i["asset_id"]} for i in items[:2]]
        },
    )
    r = alice.get(f"/api/v1/portfolios/{pid}/export")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    images = sorted(n for n in names if n.startswith("images/"))
    assert {"index.html", "manifest.json"} <= set(names) and len(images) == 3
    html = archive.read("index.html").decode()
    assert "Crane &amp; sun" in html and "a paper crane at dawn" in html
    assert "종이학 &lt;b&gt;" in html and "<b>" not in html
    for image in images:
        assert f'src="{image}"' in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched from elsewhere
    assert "/api/v1" not in html and "<script" not in html
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "promptcanvas-portfolio"
    assert [i["caption"] for i in manifest["items"]] == ["Crane & sun", "", ""]
    assert [i["prompt"] for i in manifest["items"]][1:] == ["a paper crane at dawn"] * 2
    generated = manifest["items"][1]
    assert generated["provider"] == "local" and generated["seed"] is not None
    text = Image.open(io.BytesIO(archive.read(generated["file"]))).info.get("parameters", "")
    assert "a paper crane at dawn" in text and "Seed:" in text
    assert {i["generation_id"] for i in manifest["items"][1:]} == set(generations)


def test_export_over_the_size_limit_is_413(alice: Api, container: Container) -> None:
    _, generation, _ = uploaded(alice, "big", (7, 7, 7))
    pid = create(alice, generation_ids=[generation])["id"]
    container.portfolios.export_max_bytes = 10
    r = alice.get(f"/api/v1/portfolios/{pid}/export")
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_browser_session_needs_its_csrf_token_to_change_a_portfolio(
    alice: Api, container: Container, client: Any
) -> None:
    from promptcanvas.domain.users import csrf_token

    token = container.users.create_login_token("alice")
    client.get("/auth/login", params={"token": token}, follow_redirects=False)
    session = client.cookies.get("pc_session")
    assert client.post("/api/v1/portfolios", json={"title": "x"}).status_code == 403
    r = client.post(
        "/api/v1/portfolios", json={"title": "x"}, headers={"X-CSRF-Token": csrf_token(session)}
    )
    assert r.status_code == 201
    assert count(alice) == 1
