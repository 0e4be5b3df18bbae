"""Batch re-run and the compare view in a real browser: live batch progress, then the slider."""

from __future__ import annotations

import pytest

from tests.e2e.browser import Web, shot, wait_job

pytestmark = pytest.mark.slow


IMAGES_LOADED = (
    "() => [...document.querySelectorAll('#stage img')].every(i => i.complete && i.naturalWidth)"
)


def slider_value(page: object) -> float:
    return float(page.locator("#handle").get_attribute("aria-valuenow"))  # type: ignore[attr-defined]


def test_batch_rerun_then_compare_with_the_slider(web: Web) -> None:
    with web.api() as api:
        ids = []
        for text in ("a red fox in the snow, watercolor", "푸른 바다 위의 등대, 유화"):
            prompt = api.post("/api/v1/prompts", json={"text": text}).json()
            queued = api.post(
                "/api/v1/generations",
                json={
                    "prompt_id": prompt["id"],
                    "provider": "local",
                    "model": "sketch",
                    "model_version": "1",
                    "seed": 9,
                },
            ).json()
            assert wait_job(api, queued["job_id"])["status"] == "SUCCESS"
            ids.append(prompt["id"])
        batch = api.post(
            "/api/v1/batches",
            json={
                "prompt_ids": ids,
                "target": {"provider": "local", "model": "sketch", "model_version": "2"},
            },
        )
        assert batch.status_code == 202, batch.text
        batch_id = batch.json()["id"]

    page = web.page()
    page.goto(f"/batches/{batch_id}")
    assert page.locator("#bt-bar").is_visible()
    page.wait_for_selector("#bt-state.is-success", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.bt-pair img').length === 4")
    assert "2 of 2 finished" in page.locator("#bt-summary").inner_text()
    shot(page, "batch-desktop")

    page.locator(".bt-pair").first.get_by_role("link", name="Compare").click()
    page.wait_for_url(f"**/batches/{batch_id}/compare?pair=1")
    stage = page.locator("#stage")
    assert stage.get_attribute("data-mode") == "side"
    page.wait_for_function(IMAGES_LOADED)
    shot(page, "compare-side-desktop")

    page.keyboard.press("2")
    assert stage.get_attribute("data-mode") == "slider"
    assert slider_value(page) == 50
    clip = "() => getComputedStyle(document.querySelector('#stage .cmp-before')).clipPath"
    assert "50%" in page.evaluate(clip)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert slider_value(page) == 60
    assert "40%" in page.evaluate(clip)  # the before image shows up to 60%
    page.keyboard.press("ArrowLeft")
    assert slider_value(page) == 55

    box = stage.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.click(box["x"] + box["width"] * 0.25, y)
    assert abs(slider_value(page) - 25) <= 1
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=5)
    page.mouse.up()
    assert abs(slider_value(page) - 80) <= 1
    handle_x = page.locator("#handle").bounding_box()
    assert handle_x is not None and abs(handle_x["x"] - (box["x"] + box["width"] * 0.8)) < 6
    shot(page, "compare-slider-desktop")

    page.keyboard.press("3")
    assert stage.get_attribute("data-mode") == "blink"
    assert stage.get_attribute("data-showing") == "before"
    page.keyboard.press(" ")
    assert stage.get_attribute("data-showing") == "after"
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => document.getElementById('stage').dataset.showing === 'before'")
    page.get_by_role("button", name="Pause").click()

    assert "Shape difference" in page.locator(".cmp-figures").inner_text()
    page.get_by_role("link", name="Next").click()
    page.wait_for_url(f"**/batches/{batch_id}/compare?pair=2")

    # The prompt's own compare view, on a phone, in Korean and dark.
    phone = web.page(phone=True, locale="ko-KR")
    phone.context.add_cookies([{"name": "pc_theme", "value": "dark", "url": web.url}])
    phone.goto(f"/prompts/{ids[1]}/compare?lang=ko")
    assert phone.get_by_role("button", name="슬라이더").is_visible()
    phone.get_by_role("button", name="슬라이더").click()
    phone.wait_for_function(IMAGES_LOADED)
    shot(phone, "compare-phone-ko-dark")
    phone.goto(f"/batches/{batch_id}?lang=ko")
    shot(phone, "batch-phone-ko-dark")
