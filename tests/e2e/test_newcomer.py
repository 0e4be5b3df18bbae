"""The issue's "done means", as a newcomer does it in a real browser: open the link `serve`
printed, find a past prompt by a Korean word, revise it, re-run it on sketch@2, compare before
and after with the slider, and share a portfolio that a logged-out browser opens."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import Web, shot, wait_job

pytestmark = pytest.mark.slow

PUPPY = "a cute puppy running through a sunny meadow"


def past_work(web: Web) -> None:
    """Earlier work in the library: two prompts, each with a sketch@1 image."""
    with web.api() as api:
        jobs = []
        for n, text in enumerate((PUPPY, "a lighthouse on a cliff at night, oil painting")):
            prompt = api.post("/api/v1/prompts", json={"text": text, "tags": ["past"]})
            assert prompt.status_code == 201, prompt.text
            queued = api.post(
                "/api/v1/generations",
                json={
                    "prompt_id": prompt.json()["id"],
                    "provider": "local",
                    "model": "sketch",
                    "model_version": "1",
                    "seed": 7 + n,
                },
            )
            assert queued.status_code == 202, queued.text
            jobs.append(queued.json()["job_id"])
        for job in jobs:
            assert wait_job(api, job, 60)["status"] == "SUCCESS", job
        # Past work is indexed by background jobs; a newcomer arrives after that.
        deadline = time.monotonic() + 60
        while not api.get("/api/v1/outputs", params={"q": "강아지"}).json()["data"]:
            assert time.monotonic() < deadline, "the past prompts were never indexed"
            time.sleep(0.3)


def printed_link(web: Web) -> str:
    """The one-time link `serve` printed when it started."""
    found = re.search(r"/auth/login\?token=(\S+)", web.server.log(tail=None))
    assert found, web.server.log()
    return f"{web.url}/auth/login?token={found.group(1)}"


def test_newcomer_finds_revises_reruns_compares_and_shares(web: Web) -> None:
    link = printed_link(web)  # read before anything else can make the log long
    past_work(web)

    page = web.page(login=None)
    page.goto(link)
    page.wait_for_url(f"{web.url}/")

    # find the past prompt by a Korean word, from the search box every page has
    page.get_by_role("searchbox").fill("강아지")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*[?&]q="))  # the results page, not the gallery before it
    first = page.locator(".g-card").first
    assert PUPPY in first.locator("img").get_attribute("alt")
    shot(page, "newcomer-1-search")
    first.locator("a.g-thumb").click()
    page.wait_for_url(re.compile(r".*/prompts/\w+$"))
    original = page.url

    # revise it: the revision gets its own page, with the words that changed marked
    page.get_by_role("button", name="Edit").click()
    page.locator("#ed-text").fill(PUPPY + ", watercolor")
    page.get_by_role("button", name="Save revision").click()
    page.wait_for_url(lambda url: url != original and "/prompts/" in url)
    assert "watercolor" in " ".join(page.locator("#diff ins").all_inner_texts())

    # re-run it on sketch@2 and watch the job finish live
    page.locator("#gen-model").select_option(label="local:sketch")
    page.locator("#gen-version").select_option("2")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector(".pp-output img", timeout=60_000)
    shot(page, "newcomer-2-revised-and-rerun")

    # before (sketch@1, the earlier revision) and after (sketch@2) with the slider
    page.get_by_role("link", name="Compare outputs").click()
    page.wait_for_url(re.compile(r".*/compare"))
    assert "@1" in page.locator("figcaption").first.inner_text()
    assert "@2" in page.locator("figcaption").last.inner_text()
    page.get_by_role("button", name="Slider").click()
    handle = page.get_by_role("slider")
    before = float(handle.get_attribute("aria-valuenow") or "50")
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    assert float(handle.get_attribute("aria-valuenow") or "50") < before
    shot(page, "newcomer-3-compare-slider")

    # share: pick outputs in the gallery, add them to a new portfolio, publish it
    page.goto("/")
    for card in page.locator(".g-card").all()[:2]:
        card.locator(".g-select").check(force=True)
    page.get_by_role("button", name="Add to portfolio…").click()
    page.locator("#g-portfolio-new").fill("Puppy studies")
    page.locator("#g-portfolio").get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector("#toast:not([hidden])")
    page.goto("/portfolios")
    page.get_by_role("link", name="Puppy studies").first.click()
    page.locator("#pf-publish").check()
    share = page.locator("#pf-share-url")
    page.wait_for_function("() => document.getElementById('pf-share-url').value.includes('/p/')")
    share_path = urlsplit(share.input_value()).path

    stranger = web.page(login=None)
    stranger.goto(share_path)
    assert "Puppy studies" in stranger.inner_text("body")
    assert stranger.locator(".pub-item img").count() == 2
    assert "admin" not in stranger.content()
    shot(stranger, "newcomer-4-shared-portfolio")
