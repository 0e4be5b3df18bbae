"""The web UI in a real browser: Debian's Chromium driven by Playwright.

Never `playwright install`: the browser is the system's /usr/bin/chromium (see DEVELOPERS.md).
Every page a test opens fails the test on any console error or uncaught exception, and
`shot(page, name)` keeps a screenshot under test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.procs import REPO, ServerProcess, run_cli

CHROMIUM = os.environ.get("PROMPTCANVAS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)"
    return None


@dataclass
class Console:
    """Console errors and uncaught page errors seen while a test ran."""

    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect(self, fragment: str) -> None:
        """Allow console errors containing `fragment` (a test that provokes one on purpose)."""
        self.expected.append(fragment)

    def watch(self, page: Any) -> None:
        """Record this page's errors."""

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            where = message.location.get("url", "")
            text = f"console: {message.text} at {where}"
            if not any(fragment in text for fragment in self.expected):
                self.errors.append(text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))


@dataclass
class Web:
    """A running server with helpers to sign a browser context in."""

    server: ServerProcess
    browser: Any
    console: Console
    contexts: list[object] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, key: str | None = None) -> httpx.Client:
        """An API client as the admin (the user pages sign in as); a fresh key unless given."""
        secret = key or self.server.create_key()
        headers = {"Authorization": f"Bearer {secret}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def login_link(self, name: str = "admin") -> str:
        """A fresh one-time login link for a user, from the CLI (as a newcomer gets it)."""
        done = run_cli(self.server.data_dir, "users", "login-link", name)
        assert done.returncode == 0, done.stderr
        token = re.search(r"token=(\S+)", done.stdout)
        assert token, done.stdout
        return f"{self.url}/auth/login?token={token.group(1)}"

    def context(self, *, phone: bool = False, locale: str = "en-US") -> Any:
        """A fresh, logged-out browser context whose pages are watched for errors."""
        context = self.browser.new_context(
            viewport=PHONE if phone else DESKTOP, locale=locale, base_url=self.url
        )
        context.on("page", self.console.watch)
        self.contexts.append(context)
        return context

    def page(
        self, *, phone: bool = False, locale: str = "en-US", login: str | None = "admin"
    ) -> Any:
        """A page in a fresh context, signed in as `login` (None: stay logged out)."""
        page = self.context(phone=phone, locale=locale).new_page()
        page.set_default_timeout(15_000)
        if login:
            page.goto(self.login_link(login))
            page.wait_for_url(f"{self.url}/")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def wait_job(api: httpx.Client, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll a job until it ends; the job as the API shows it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("SUCCESS", "FAILURE", "CANCELLED"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run."""
    reason = chromium_missing()
    if reason and "PROMPTCANVAS_TEST_CHROMIUM" in os.environ:
        pytest.fail(reason)  # CI names the browser: it must be there
    if reason:
        pytest.skip(reason)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server process on a fresh SQLite library per test module."""
    server = ServerProcess(tmp_path_factory.mktemp("web") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def web(web_server: ServerProcess, browser: Any) -> Iterator[Web]:
    """The server and the browser; the test fails on any console error its pages logged."""
    console = Console()
    harness = Web(web_server, browser, console)
    try:
        yield harness
    finally:
        harness.close()
    assert not console.errors, "the browser logged errors:\n" + "\n".join(console.errors)
