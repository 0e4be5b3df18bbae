"""Browser fixtures for the e2e tests (see tests/e2e/browser.py)."""

from tests.e2e.browser import browser, web, web_server

__all__ = ["browser", "web", "web_server"]
