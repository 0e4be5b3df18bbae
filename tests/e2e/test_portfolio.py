"""Portfolios in a real browser: order and caption in the editor, publish, open the link logged
out, revoke it; projects list and page."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pytest

from tests.e2e.browser import Web, shot, wait_job

pytestmark = pytest.mark.slow

PROMPTS = ("a red fox in the snow", "눈 속의 여우와 오로라", "a paper crane at dawn")


def make_outputs(api: httpx.Client) -> tuple[list[str], str]:
    """Three prompts with one `sketch` output each (jobs run to the end); a project too."""
    project = api.post("/api/v1/projects", json={"name": "Winter series"}).json()["id"]
    prompt_ids, jobs = [], []
    for n, text in enumerate(PROMPTS):
        prompt = api.post("/api/v1/prompts", json={"text": text, "project_id": project})
        assert prompt.status_code == 201, prompt.text
        prompt_ids.append(prompt.json()["id"])
        queued = api.post(
            "/api/v1/generations",
            json={"prompt_id": prompt_ids[-1], "provider": "local", "model": "sketch", "seed": n},
        )
        assert queued.status_code == 202, queued.text
        jobs.append(queued.json()["job_id"])
    for job in jobs:
        assert wait_job(api, job, 60)["status"] == "SUCCESS", job
    return prompt_ids, project


def order(page: Any) -> list[str]:
    return page.eval_on_selector_all(".pf-item", "els => els.map(e => e.dataset.asset)")


def wait_saved(page: Any) -> None:
    page.wait_for_function(
        "() => document.getElementById('pf-status').textContent.length > 0 && "
        "!document.getElementById('pf-status').textContent.includes('…')"
    )


def test_build_order_caption_publish_open_logged_out_and_revoke(web: Web) -> None:
    with web.api() as api:
        check_portfolio_flow(web, api)


def check_portfolio_flow(web: Web, api: httpx.Client) -> None:
    prompt_ids, project = make_outputs(api)
    made = api.post(
        "/api/v1/portfolios",
        json={"title": "Winter foxes", "description": "Three studies", "prompt_ids": prompt_ids},
    ).json()
    a, b, c = (i["asset_id"] for i in made["items"])

    page = web.page()
    page.goto("/portfolios")
    page.get_by_role("link", name="Winter foxes").click()
    page.wait_for_url(f"**/portfolios/{made['id']}")
    assert order(page) == [a, b, c]

    # keyboard: the second work's "move up" button, pressed with Enter
    page.get_by_role("button", name="Move work 2 up").focus()
    page.keyboard.press("Enter")
    assert order(page) == [b, a, c]
    wait_saved(page)
    # the button keeps the focus, relabelled for its new place
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move work 1 down"

    # drag and drop: the last work onto the first
    page.locator(f'.pf-item[data-asset="{c}"] .pf-thumb').drag_to(
        page.locator(f'.pf-item[data-asset="{b}"] .pf-thumb'), target_position={"x": 5, "y": 5}
    )
    assert order(page) == [c, b, a]
    wait_saved(page)

    caption = page.get_by_label("Caption of work 1")
    caption.fill("First light on the snow")
    caption.press("Tab")
    page.locator(f'.pf-item[data-asset="{b}"] .pf-set-cover').click()
    cover = f'.pf-item[data-asset="{b}"].is-cover'
    page.wait_for_selector(cover)
    stored = api.get(f"/api/v1/portfolios/{made['id']}").json()
    assert [i["asset_id"] for i in stored["items"]] == [c, b, a]
    assert stored["items"][0]["caption"] == "First light on the snow"
    assert stored["cover_asset_id"] == b

    # publish: the link shows with a copy button
    page.get_by_role("switch").check()
    link_box = page.locator("#pf-share-url")
    page.wait_for_function("() => document.getElementById('pf-share-url').value.includes('/p/')")
    link = link_box.input_value()
    assert link.startswith(f"{web.url}/p/")
    shot(page, "portfolio-editor")

    visitor = web.page(login=None)
    response = visitor.goto(link)
    assert response is not None and response.status == 200
    assert response.headers["x-robots-tag"].startswith("noindex")
    text = visitor.inner_text("body")
    assert "Winter foxes" in text and "First light on the snow" in text
    for prompt in PROMPTS:
        assert prompt in text
    images = visitor.locator(".pub-item img")
    assert images.count() == 3
    visitor.wait_for_function(
        "() => [...document.querySelectorAll('.pub-item img')].slice(0, 2)"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert "/api/v1" not in visitor.content() and "admin" not in text
    shot(visitor, "portfolio-public")

    phone = web.page(login=None, phone=True, locale="ko-KR")
    phone.goto(link)
    assert "프롬프트" in phone.inner_text("body")
    shot(phone, "portfolio-public-phone-ko")

    # the static HTML zip opens from a folder, with every image, and asks nothing of a server
    exported = api.get(f"/api/v1/portfolios/{made['id']}/export")
    assert exported.status_code == 200
    folder = web.server.data_dir.parent / "export"
    zipfile.ZipFile(io.BytesIO(exported.content)).extractall(folder)
    offline = web.page(login=None)
    requests: list[str] = []
    offline.on("request", lambda r: requests.append(r.url))
    offline.goto((folder / "index.html").as_uri())
    assert "First light on the snow" in offline.inner_text("body")
    offline.wait_for_function(
        "() => [...document.images].slice(0, 3).every(i => i.complete && i.naturalWidth > 0)"
    )
    assert all(u.startswith("file://") for u in requests), requests
    shot(offline, "portfolio-export")

    # revoke: the old link stops working at once
    page.get_by_role("button", name="Revoke link").click()
    page.wait_for_function("() => document.getElementById('pf-link').hidden")
    assert not page.get_by_role("switch").is_checked()
    web.console.expect("status of 404")
    gone = visitor.goto(link)
    assert gone is not None and gone.status == 404
    assert "does not work" in visitor.inner_text("body")
    assert "Winter foxes" not in visitor.content()

    # the editor at phone width, dark and in Korean
    dark = web.page(phone=True, locale="ko-KR")
    dark.context.add_cookies([{"name": "pc_theme", "value": "dark", "url": web.url}])
    dark.goto(f"/portfolios/{made['id']}?lang=ko")
    assert dark.get_by_role("button", name="1번째 작품을 아래로 이동").is_visible()
    shot(dark, "portfolio-editor-phone-ko-dark")
    dark.goto("/portfolios")
    shot(dark, "portfolios-phone-ko-dark")

    # projects: the list with counts, the project page with its outputs and portfolios
    page.goto("/projects")
    assert "Winter series" in page.inner_text("main") and "3 outputs" in page.inner_text("main")
    shot(page, "projects")
    page.get_by_role("link", name="Winter series").click()
    page.wait_for_url(f"**/projects/{project}")
    assert page.locator(".pj-outputs img").count() == 3
    page.get_by_role("button", name="New portfolio from this project").click()
    page.wait_for_url("**/portfolios/*")
    assert len(order(page)) == 3
    page.goto(f"/projects/{project}")
    shot(page, "project")
    page.goto("/portfolios")
    shot(page, "portfolios")
