"""Outbound network access stays where it is guarded.

Fetching a URL somebody handed us (a provider's result link, a user's reference image, a
callback) must go through adapters/http/fetch.py's GuardedFetcher, which refuses private,
loopback, link-local and metadata addresses after DNS and on every redirect. Only clients
pinned to a base URL the deployer configured may talk HTTP directly. This test fails when a
new module imports an HTTP client (or a raw socket) outside that list: route the new code
through GuardedFetcher, or, if it only ever talks to a configured base URL, add it here with
the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import httpx

import promptcanvas
from promptcanvas.adapters.providers.selfhosted import build_client
from promptcanvas.settings import ProviderConfig

SRC = Path(promptcanvas.__file__).parent

HTTP_CLIENTS = {
    "httpx",
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "aiohttp",
    "pycurl",
}
HTTP_ALLOWED = {
    "adapters/http/fetch.py": "the guarded fetcher itself",
    "adapters/providers/selfhosted.py": "client pinned to the configured base_url, no redirects",
    "adapters/providers/sdwebui.py": "requests go to the configured base_url only",
    "adapters/providers/comfyui.py": "requests go to the configured base_url only",
    "adapters/providers/openai.py": "SDK on the configured base_url; result URLs via the fetcher",
    "adapters/embedders/openai.py": "POSTs to the configured embedder_base_url only",
}
OTHER_NETWORK = {
    "openai": {"adapters/providers/openai.py"},
    "socket": {
        "adapters/http/fetch.py",  # resolves and checks addresses before connecting
        "services/runner.py",  # gethostname() names the worker; never connects
    },
}
# Engines reached at configured URLs (database, broker, object store) belong in adapters/.
ENGINES = {"redis", "celery", "kombu", "boto3", "botocore", "psycopg", "smtplib", "ftplib"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def matches(module: str, names: set[str]) -> str | None:
    return next((n for n in names if module == n or module.startswith(n + ".")), None)


def test_only_allow_listed_modules_open_network_connections() -> None:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        for module in sorted(imported_modules(path)):
            if (hit := matches(module, HTTP_CLIENTS)) and relative not in HTTP_ALLOWED:
                problems.append(f"{relative} imports {hit}: fetch URLs through GuardedFetcher")
            for name, allowed in OTHER_NETWORK.items():
                if matches(module, {name}) and relative not in allowed:
                    problems.append(f"{relative} imports {name}")
            if (hit := matches(module, ENGINES)) and not relative.startswith("adapters/"):
                problems.append(f"{relative} imports {hit}: engines belong in adapters/")
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_allow_list_names_real_files_that_still_need_it() -> None:
    """A stale entry would silently allow a future file of that name."""
    for relative in HTTP_ALLOWED:
        path = SRC / relative
        assert path.is_file(), relative
        assert matches_any(imported_modules(path), HTTP_CLIENTS | {"openai"}), relative


def matches_any(modules: set[str], names: set[str]) -> bool:
    return any(matches(module, names) for module in modules)


def test_the_checker_catches_an_http_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def grab(url):\n    import httpx\n    return httpx.get(url)\n")
    assert matches_any(imported_modules(sneaky), HTTP_CLIENTS)
    sneaky.write_text("from urllib.request import urlopen\n")
    assert matches_any(imported_modules(sneaky), HTTP_CLIENTS)


def test_base_url_clients_never_follow_redirects() -> None:
    """A provider's own redirect must not carry its client (and key) to another host."""
    config = ProviderConfig(name="sd", adapter="sdwebui", base_url="http://127.0.0.1:7860")
    client = build_client(config, httpx.MockTransport(lambda _r: httpx.Response(200)))
    with client:
        assert client.follow_redirects is False
        assert str(client.base_url).startswith("http://127.0.0.1:7860")
