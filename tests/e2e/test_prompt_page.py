"""The prompt page in a real browser: revise and see the diff; generate and watch it live."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browser import Web, shot

pytestmark = pytest.mark.slow


def test_revise_in_the_browser_and_see_the_word_level_diff(web: Web) -> None:
    with web.api() as api:
        root = api.post(
            "/api/v1/prompts",
            json={"text": "a small red fox sleeping in the snow", "tags": ["fox"]},
        ).json()

    page = web.page()
    page.goto(f"/prompts/{root['id']}")
    page.get_by_role("button", name="Edit").click()
    text = page.get_by_role("textbox", name="Prompt", exact=True)
    text.fill("a small red fox running through the deep snow at dusk")
    page.get_by_label("Tags").fill("fox, winter")
    page.get_by_role("button", name="Save revision").click()
    page.wait_for_url(re.compile(r"/prompts/(?!" + root["id"] + r")[^/]+$"))
    child_id = page.url.rsplit("/", 1)[1]

    diff = page.locator("#diff")
    assert "deep" in diff.locator("ins").all_inner_texts()[0] or "deep" in diff.inner_text()
    inserted = " ".join(diff.locator(".diff-text ins").all_inner_texts())
    deleted = " ".join(diff.locator(".diff-text del").all_inner_texts())
    assert "running" in inserted and "sleeping" in deleted and "dusk" in inserted
    assert "+winter" in diff.inner_text()
    assert page.locator(".tree-node.is-current").count() == 1
    shot(page, "prompt-revised-desktop")

    # A second revision; then pick the root and the newest in the tree: diff without reload.
    page.get_by_role("button", name="Edit").click()
    page.get_by_role("textbox", name="Prompt", exact=True).fill(
        "a small red fox running through the deep snow at dawn"
    )
    page.get_by_role("button", name="Save revision").click()
    page.wait_for_url(re.compile(r"/prompts/(?!" + child_id + r")[^/]+$"))
    newest_id = page.url.rsplit("/", 1)[1]
    assert page.locator(".tree-node").count() == 3
    page.locator(f"#pick-{child_id}").uncheck()
    assert "Tick two" in diff.inner_text()
    page.locator(f"#pick-{root['id']}").check()
    page.wait_for_function(
        "([a, b]) => { const d = document.getElementById('diff');"
        " return d.dataset.from === a && d.dataset.to === b && !d.hasAttribute('aria-busy'); }",
        arg=[root["id"], newest_id],
    )
    inserted = " ".join(diff.locator(".diff-text ins").all_inner_texts())
    assert "dawn" in inserted and "running" in inserted
    assert page.url.endswith(newest_id)  # no navigation happened

    # Korean, at phone width.
    phone = web.page(phone=True, locale="ko-KR")
    phone.goto(f"/prompts/{newest_id}?lang=ko")
    assert phone.get_by_role("heading", name="버전 기록").is_visible()
    assert phone.locator("#diff ins").count() > 0
    shot(phone, "prompt-phone-ko")


def test_generate_on_sketch_2_and_watch_it_finish_live(web: Web) -> None:
    with web.api() as api:
        prompt = api.post(
            "/api/v1/prompts",
            json={
                "text": "a lighthouse on a cliff at night, oil painting",
                "negative_text": "text",
            },
        ).json()

    page = web.page()
    page.context.add_cookies([{"name": "pc_theme", "value": "dark", "url": web.url}])
    page.goto(f"/prompts/{prompt['id']}")
    assert page.locator("#outputs-empty").is_visible()
    page.get_by_label("Provider and model").select_option(label="local:sketch")
    page.get_by_label("Version").select_option("2")
    page.get_by_label("Seed").fill("42")
    # Record every state the page shows, to prove the progress came in live.
    page.evaluate(
        "() => { window.__states = []; const box = document.getElementById('gen-status');"
        " new MutationObserver(() => window.__states.push(box.dataset.status))"
        ".observe(box, {attributes: true, attributeFilter: ['data-status']}); }"
    )
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector("#gen-progress", state="visible")
    page.wait_for_selector("#gen-status[data-status='SUCCESS']", timeout=60_000)
    assert page.locator("#gen-progress").evaluate("p => p.value") == 100
    assert "Done" in page.locator("#gen-state").inner_text()
    states = page.evaluate("() => window.__states")
    assert states[-1] == "SUCCESS"

    group = page.locator('.pp-group[data-label="local:sketch@2"]')
    item = group.locator(".pp-output")
    assert item.count() == 1
    assert "42" in item.inner_text()
    image = item.locator("img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert not page.locator("#outputs-empty").is_visible()

    # Star and rate, then see both survive a reload.
    page.locator("#star").click()
    page.wait_for_function("() => document.getElementById('star').ariaPressed === 'true'")
    page.locator("label[for='rating-4']").click()
    page.wait_for_function("() => document.getElementById('rating').dataset.value === '4'")
    page.wait_for_load_state("networkidle")  # the star and rating saves have answered
    page.reload()
    assert page.locator("#star").get_attribute("aria-pressed") == "true"
    assert page.locator("#rating-4").is_checked()
    page.locator("#rating-2").focus()
    page.keyboard.press("ArrowRight")  # radios: the keyboard moves the rating too
    page.wait_for_function("() => document.getElementById('rating').dataset.value === '3'")
    shot(page, "prompt-generated-dark")

    # Copy parameters: the newest output's settings as A1111 text.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web.url)
    page.locator("#copy-params").click()
    page.wait_for_function("() => document.getElementById('toast').textContent.includes('Copied')")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith(
        "a lighthouse on a cliff at night, oil painting\nNegative prompt: text"
    )
    assert "Seed: 42" in copied and "Model: sketch" in copied and "Model version: 2" in copied

    # A bad seed is refused with a message and nothing is queued.
    with web.api() as api:
        before = len(api.get(f"/api/v1/prompts/{prompt['id']}").json()["outputs"])
        page.get_by_label("Seed").fill("-5")
        page.get_by_role("button", name="Generate").click()
        assert "whole number" in page.locator("#gen-error").inner_text()
        assert len(api.get(f"/api/v1/prompts/{prompt['id']}").json()["outputs"]) == before
