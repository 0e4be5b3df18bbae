"""Security headers on every kind of answer, and cookies that are Secure over HTTPS.

Every response class (pages, JSON, files, zips, redirects, errors, 404s, 413, 429, the public
share page and its images, static files, the API docs) carries a CSP that allows no inline
script, nosniff, no framing and a Referrer-Policy. Every cookie the server sets is SameSite,
the session HttpOnly, and all of them Secure exactly when the app is served over HTTPS.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from promptcanvas.adapters.ratelimit.memory import MemoryRateLimiter
from promptcanvas.bootstrap import Container
from promptcanvas.domain.users import csrf_token
from promptcanvas.entrypoints.api.app import create_app
from tests import factories
from tests.conftest import Api


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Headers do not depend on the database: SQLite only, to keep this module quick."""
    path = tmp_path / "promptcanvas.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def directive(csp: str, name: str) -> str | None:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return " ".join(words[1:])
    return None


def assert_hardened(response: Any, what: str) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy")
    assert csp, f"{what}: no Content-Security-Policy"
    script = directive(csp, "script-src") or directive(csp, "default-src")
    assert script is not None, f"{what}: the CSP does not restrict scripts: {csp}"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, (what, csp)
    assert "*" not in script.split(), (what, csp)
    assert directive(csp, "frame-ancestors") == "'none'", (what, csp)
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what


def sign_in(container: Container, client: TestClient, name: str) -> str:
    """Sign a browser in; its CSRF token."""
    token = container.users.create_login_token(name)
    r = client.get("/auth/login", params={"token": token}, follow_redirects=False)
    assert r.status_code == 303
    return csrf_token(client.cookies["pc_session"])


@pytest.fixture
def browser(container: Container, alice: Api) -> Iterator[tuple[TestClient, str]]:
    """Alice's signed-in browser and its CSRF token."""
    with TestClient(create_app(container)) as client:
        yield client, sign_in(container, client, "alice")


def test_every_kind_of_answer_carries_the_headers(
    alice: Api, client: TestClient, container: Container, browser: tuple[TestClient, str]
) -> None:
    page, csrf = browser
    prompt = alice.create_prompt("a lighthouse at dusk")
    asset = alice.upload(factories.png(), prompt_id=prompt["id"]).json()
    folio = alice.post(
        "/api/v1/portfolios", json={"title": "Dusk", "generation_ids": [asset["generation_id"]]}
    ).json()
    share = alice.post(f"/api/v1/portfolios/{folio['id']}/publish").json()["share_url"]
    public = re.sub(r"^https?://[^/]+", "", share)
    answers = {
        "signed-out page": client.get("/"),
        "sign-in redirect": client.get("/auth/login?token=x", follow_redirects=False),
        "signed-in pages": page.get("/"),
        "settings page": page.get("/settings"),
        "prompt page": page.get(f"/prompts/{prompt['id']}"),
        "page that needs sign-in": client.get("/settings"),
        "missing page": page.get("/prompts/01m7yf121f41pmmnabp8402beg"),
        "theme form redirect": page.post(
            "/settings/theme", data={"theme": "dark", "csrf": csrf}, follow_redirects=False
        ),
        "JSON": alice.get("/api/v1/prompts"),
        "created JSON": alice.post("/api/v1/prompts", json={"text": "x"}),
        "file download": alice.get(f"/api/v1/assets/{asset['id']}/content"),
        "thumbnail": alice.get(f"/api/v1/assets/{asset['id']}/thumbnail"),
        "not modified": alice.get(
            f"/api/v1/assets/{asset['id']}/content", headers={"If-None-Match": "*"}
        ),
        "zip download": alice.get(f"/api/v1/portfolios/{folio['id']}/export"),
        "public portfolio": client.get(public),
        "public image": client.get(f"{public}/i/{asset['id']}"),
        "public 404": client.get("/p/not-a-token"),
        "401": client.get("/api/v1/prompts"),
        "403 (no CSRF)": page.post("/api/v1/prompts", json={"text": "x"}),
        "404 route": alice.get("/api/v1/nothing-here"),
        "404 id": alice.get("/api/v1/prompts/01m7yf121f41pmmnabp8402beg"),
        "405": alice.delete("/api/v1/prompts"),
        "413": alice.post("/api/v1/assets", content=b"x", headers={"Content-Length": "9" * 12}),
        "422": alice.post("/api/v1/prompts", json={"text": 5}),
        "static file": client.get("/static/app.js"),
        "health": client.get("/healthz"),
        "metrics": client.get("/metrics"),
        "openapi": client.get("/openapi.json"),
        "docs": client.get("/docs"),
        "redoc": client.get("/redoc"),
    }
    expected = {"401": 401, "403 (no CSRF)": 403, "405": 405, "413": 413, "422": 422}
    for what, response in answers.items():
        assert response.status_code < 500, (what, response.status_code)
        if what in expected:
            assert response.status_code == expected[what], (what, response.text)
        assert_hardened(response, what)
    for what in ("public portfolio", "file download", "zip download", "public image"):
        assert answers[what].status_code == 200, what
    assert answers["missing page"].status_code == 404
    assert answers["public 404"].status_code == 404


def test_a_429_carries_the_headers(alice: Api, container: Container) -> None:
    container.settings = container.settings.model_copy(
        update={"rate_limit_per_second": 0.001, "rate_limit_burst": 1}
    )
    container.rate_limiter = MemoryRateLimiter(clock=lambda: 0.0)
    alice.get("/api/v1/prompts")
    refused = alice.get("/api/v1/prompts")
    assert refused.status_code == 429
    assert_hardened(refused, "429")


def test_the_docs_run_only_their_own_inline_script(client: TestClient) -> None:
    """The docs' one inline script is allowed by its hash; any other inline script is not."""
    docs = client.get("/docs")
    script = directive(docs.headers["content-security-policy"], "script-src") or ""
    hashes = re.findall(r"'sha256-[A-Za-z0-9+/=]+'", script)
    assert len(hashes) == 1
    assert "<script>" in docs.text  # FastAPI's viewer starts from an inline script
    assert directive(client.get("/").headers["content-security-policy"], "script-src") == "'self'"


def set_cookies(response: Any) -> dict[str, str]:
    """Name -> the raw Set-Cookie header for each cookie a response sets."""
    found = {}
    for raw in response.headers.get_list("set-cookie"):
        name = next(iter(SimpleCookie(raw)))
        found[name] = raw.lower()
    return found


def every_cookie(container: Container, client: TestClient) -> dict[str, str]:
    """Sign in, choose a language and a theme, sign out: every cookie the server sets."""
    token = container.users.create_login_token("alice")
    cookies = set_cookies(
        client.get("/auth/login", params={"token": token}, follow_redirects=False)
    )
    csrf = csrf_token(client.cookies["pc_session"])
    cookies.update(set_cookies(client.get("/settings?lang=ko")))
    theme = client.post(
        "/settings/theme", data={"theme": "dark", "csrf": csrf}, follow_redirects=False
    )
    cookies.update(set_cookies(theme))
    logout = client.post("/auth/logout", data={"csrf": csrf}, follow_redirects=False)
    cookies["pc_session (deleted)"] = set_cookies(logout)["pc_session"]
    return cookies


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_cookies_are_secure_exactly_over_https(
    alice: Api, container: Container, scheme: str
) -> None:
    with TestClient(create_app(container), base_url=f"{scheme}://testserver") as client:
        cookies = every_cookie(container, client)
        health = client.get("/healthz")
    assert set(cookies) == {"pc_session", "pc_lang", "pc_theme", "pc_session (deleted)"}
    for name, raw in cookies.items():
        assert "samesite=lax" in raw, raw
        assert "path=/" in raw, raw
        assert ("; secure" in raw) == (scheme == "https"), raw
        assert ("httponly" in raw) == name.startswith("pc_session"), raw
    hsts = health.headers.get("strict-transport-security")
    assert (hsts is not None) == (scheme == "https")


@pytest.mark.parametrize(("proxy", "secure"), [("testclient", True), ("10.9.8.7", False)])
def test_forwarded_https_counts_only_from_a_trusted_proxy(
    alice: Api, container: Container, proxy: str, secure: bool
) -> None:
    """Served by uvicorn behind a TLS proxy (FORWARDED_ALLOW_IPS names the proxies)."""
    app = ProxyHeadersMiddleware(create_app(container), trusted_hosts=[proxy])
    with TestClient(app, headers={"X-Forwarded-Proto": "https"}) as client:
        token = container.users.create_login_token("alice")
        r = client.get("/auth/login", params={"token": token}, follow_redirects=False)
    raw = set_cookies(r)["pc_session"]
    assert ("; secure" in raw) == secure, raw
