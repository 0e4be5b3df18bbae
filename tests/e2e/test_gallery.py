"""The gallery in a real browser: grid, Korean search, multi-select trash and restore,
infinite scroll, keyboard, timeline; screenshots at desktop and phone width, in Korean and dark."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.browser import Web, shot, wait_job

pytestmark = pytest.mark.slow

PROMPTS = [
    "a cute puppy running through a sunny meadow",
    "a bowl of steaming ramen with egg, food photography",
    "a lighthouse on a rocky coast during a storm",
    "portrait of a knight in shining armor, dramatic light",
    "a vintage red sports car on a coastal road at sunset",
]
OUTPUTS = len(PROMPTS) * 2


def make_library(web: Web) -> dict[str, str]:
    """Prompts and sketch outputs through the API, waiting until jobs and indexing are done."""
    ids: dict[str, str] = {}
    with web.api() as api:
        jobs = []
        for text in PROMPTS:
            prompt = api.post("/api/v1/prompts", json={"text": text})
            assert prompt.status_code == 201, prompt.text
            ids[text] = prompt.json()["id"]
            queued = api.post(
                "/api/v1/generations",
                json={
                    "prompt_id": ids[text],
                    "provider": "local",
                    "model": "sketch",
                    "n": 2,
                    "seed": 7,
                },
            )
            assert queued.status_code == 202, queued.text
            jobs.append(queued.json()["job_id"])
        for job in jobs:
            assert wait_job(api, job, 120)["status"] == "SUCCESS", job
        deadline = time.monotonic() + 120
        while True:  # the background indexer embeds the new prompts
            found = api.get("/api/v1/outputs", params={"q": "강아지", "limit": 2}).json()["data"]
            if found and found[0]["prompt_id"] == ids[PROMPTS[0]]:
                break
            assert time.monotonic() < deadline, "the prompts were never indexed"
            time.sleep(0.3)
    return ids


def ensure_library(web: Web) -> None:
    """The library of the first test (each module shares one server), made if missing."""
    with web.api() as api:
        if api.get("/api/v1/outputs", params={"limit": 1}).json()["data"]:
            return
    make_library(web)


def settle(page: Any, script: str, timeout: float = 15.0) -> None:
    """Poll a page expression until true (wait_for_function evals strings, which CSP forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(script):
                return
        except PlaywrightError as exc:  # the page reloaded itself (an emptied view) mid-poll
            if "context was destroyed" not in str(exc):
                raise
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        page.wait_for_timeout(100)


IMAGES_LOADED = "Array.from(document.querySelectorAll('.g-card img')).every(i => i.complete)"


def cards(page: Any) -> Any:
    return page.locator("#g-grid .g-card")


def test_gallery_search_select_trash_restore_and_scroll(web: Web) -> None:
    ids = make_library(web)
    page = web.page()
    assert cards(page).count() == OUTPUTS
    first_img = cards(page).first.locator("img")
    assert first_img.get_attribute("alt")
    settle(page, IMAGES_LOADED)
    shot(page, "gallery-desktop")

    # Korean search finds the English puppy prompt first.
    page.fill("#top-q", "강아지")
    page.press("#top-q", "Enter")
    page.wait_for_url("**/?q=*")
    assert ids[PROMPTS[0]] in (cards(page).first.get_attribute("data-prompt") or "")
    assert "puppy" in cards(page).first.inner_text()

    # Keyboard: arrows move between cards, space selects.
    page.goto("/")
    page.locator("#g-grid .g-thumb").first.focus()
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("document.activeElement.closest('.g-card').dataset.generation")
    assert focused == cards(page).nth(1).get_attribute("data-generation")
    page.keyboard.press("Space")
    assert page.locator("#g-bar").is_visible()
    assert "1" in page.inner_text("#g-count")
    page.click("#g-none")
    assert page.locator("#g-bar").is_hidden()

    # Select two (the second with shift-click extends from the first) and trash them.
    boxes = page.locator("#g-grid .g-select")
    boxes.nth(0).click()
    boxes.nth(1).click(modifiers=["Shift"])
    chosen = [cards(page).nth(i).get_attribute("data-generation") for i in (0, 1)]
    assert "2" in page.inner_text("#g-count")
    shot(page, "gallery-selection")
    page.click("#g-trash")
    settle(page, f"document.querySelectorAll('#g-grid .g-card').length === {OUTPUTS - 2}")
    for gid in chosen:
        assert page.locator(f'.g-card[data-generation="{gid}"]').count() == 0

    page.get_by_role("link", name="Show trash").click()
    page.wait_for_url("**/?trashed=true")
    assert sorted(c.get_attribute("data-generation") for c in cards(page).all()) == sorted(chosen)
    page.click("#g-grid .g-select >> nth=0")
    page.click("#g-all")
    page.click("#g-restore")
    settle(page, "document.querySelectorAll('#g-grid .g-card').length === 0")
    page.goto("/")
    assert cards(page).count() == OUTPUTS

    # Infinite scroll: a small page size, then scrolling loads the rest.
    with page.expect_response(lambda r: "/api/v1/outputs?" in r.url and "cursor=" in r.url):
        page.goto("/?limit=4")
    for _ in range(10):
        page.mouse.wheel(0, 4000)
        if cards(page).count() == OUTPUTS:
            break
        page.wait_for_timeout(300)
    assert cards(page).count() == OUTPUTS
    page.locator("#g-end").wait_for(state="visible")
    seen = [c.get_attribute("data-generation") for c in cards(page).all()]
    assert len(set(seen)) == OUTPUTS


def test_gallery_at_phone_width_in_korean_and_dark(web: Web) -> None:
    ensure_library(web)
    phone = web.page(phone=True, locale="ko-KR")
    assert phone.locator("html").get_attribute("lang") == "ko"
    assert phone.get_by_role("link", name="갤러리").count() >= 1
    settle(phone, IMAGES_LOADED)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    shot(phone, "gallery-phone-ko")
    phone.locator("#g-grid .g-select").first.click()
    shot(phone, "gallery-phone-selection", full_page=False)

    dark = web.page()
    dark.context.add_cookies([{"name": "pc_theme", "value": "dark", "url": web.url}])
    dark.goto("/?lang=ko")
    assert dark.locator("html").get_attribute("data-theme") == "dark"
    settle(dark, IMAGES_LOADED)
    shot(dark, "gallery-dark-ko")
    dark.goto("/?lang=en&tag=no-such-tag")
    assert "Nothing matches" in dark.inner_text("main")
    shot(dark, "gallery-no-results-dark")

    timeline = web.page()
    timeline.goto("/timeline?limit=4")
    assert timeline.locator(".tl-day time[data-format=day]").count() >= 1
    for _ in range(10):
        timeline.mouse.wheel(0, 4000)
        if timeline.locator(".tl .g-card").count() == OUTPUTS:
            break
        timeline.wait_for_timeout(300)
    assert timeline.locator(".tl .g-card").count() == OUTPUTS
    timeline.evaluate("window.scrollTo(0, 0)")
    shot(timeline, "timeline-desktop")
