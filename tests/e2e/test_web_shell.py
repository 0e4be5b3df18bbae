"""The web UI's shell in a real browser: sign in by link, language, theme, sign out."""

from __future__ import annotations

import pytest

from tests.e2e.browser import Web, shot

pytestmark = pytest.mark.slow


def test_sign_in_by_link_switch_language_and_sign_out(web: Web) -> None:
    anonymous = web.page(login=None)
    anonymous.goto("/")
    assert "not signed in" in anonymous.inner_text("main")
    shot(anonymous, "signin")

    page = web.page()
    assert page.get_by_role("link", name="Gallery").is_visible()
    shot(page, "shell-empty-gallery", full_page=False)
    page.get_by_role("link", name="한국어").click()
    page.wait_for_url("**/?lang=ko")
    assert page.get_by_role("link", name="갤러리").is_visible()
    page.goto("/")  # the choice sticks without ?lang
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("link", name="Gallery").is_visible()

    toggle = page.locator("#theme-toggle")
    toggle.click()
    assert page.locator("html").get_attribute("data-theme") == "light"
    toggle.click()
    assert page.locator("html").get_attribute("data-theme") == "dark"
    page.reload()
    assert page.locator("html").get_attribute("data-theme") == "dark"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{web.url}/")
    assert "not signed in" in page.inner_text("main")


def test_old_login_link_is_refused(web: Web) -> None:
    web.console.expect("status of 401")
    link = web.login_link()
    first = web.page(login=None)
    first.goto(link)
    assert first.get_by_role("link", name="Gallery").is_visible()
    second = web.page(login=None)
    response = second.goto(link)
    assert response is not None and response.status == 401
    assert "invalid" in second.inner_text("[role=alert]")


def test_write_a_new_prompt_from_the_gallery(web: Web) -> None:
    page = web.page()
    page.get_by_role("link", name="New prompt").first.click()
    page.wait_for_url("**/prompts/new")
    page.get_by_role("button", name="Save prompt").click()
    assert page.locator("#np-error").inner_text() == "Write the prompt first."
    page.locator("#np-text").fill("a paper boat on a rainy street, 비 오는 날")
    page.locator("#np-tags").fill("rain, boat")
    page.get_by_role("button", name="Save prompt").click()
    page.wait_for_url(lambda url: "/prompts/" in url and not url.endswith("/new"))
    assert "a paper boat on a rainy street" in page.locator("#pp-text").inner_text()
    assert page.get_by_role("button", name="Generate").is_visible()
    shot(page, "new-prompt-saved", full_page=False)
