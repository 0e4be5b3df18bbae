"""HTTP plumbing shared by the self-hosted image servers (AUTOMATIC1111/Forge and ComfyUI).

Both speak plain JSON over HTTP, usually on a LAN, sometimes behind a reverse proxy that
wants a password. This module builds their httpx client and turns transport failures and
the status codes they share into our provider errors; each adapter reads its own error
bodies.
"""

from __future__ import annotations

import base64
import email.utils
import json
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any

import httpx

from promptcanvas.ports.providers.base import ImageCapabilities, ModelInfo
from promptcanvas.ports.providers.errors import InvalidRequest, RateLimited, Timeout, Unavailable
from promptcanvas.settings import ProviderConfig

_DETAIL_CHARS = 300
_FRAMING_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class ConfigAuth(httpx.Auth):
    """Credentials read from the provider config on every request, so a rotated secret
    file takes effect without a restart and the secret is never kept on an object.

    A key of the form `user:password` is sent as HTTP basic auth (what A1111's
    `--api-auth` expects); anything else as a bearer token (what most proxies expect).
    """

    def __init__(self, config: ProviderConfig) -> None:
        self._config = config

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = self._config.api_key()
        if key and ":" in key:
            token = base64.b64encode(key.encode()).decode()
            request.headers["Authorization"] = f"Basic {token}"
        elif key:
            request.headers["Authorization"] = f"Bearer {key}"
        yield request


def build_client(config: ProviderConfig, transport: httpx.BaseTransport | None) -> httpx.Client:
    """A client for the configured server; raises ValueError when base_url is missing."""
    if not config.base_url:
        raise ValueError(f"provider {config.name!r} ({config.adapter}) needs a base_url")
    has_key = config.api_key_env is not None or config.api_key_file is not None
    return httpx.Client(
        base_url=config.base_url,
        timeout=config.timeout_seconds,
        transport=transport,
        # Without a configured key, credentials written into base_url still apply.
        auth=ConfigAuth(config) if has_key else None,
        follow_redirects=False,
    )


def image_models(
    config: ProviderConfig, caps: ImageCapabilities, describe: Callable[[str], str]
) -> list[ModelInfo]:
    """One ModelInfo per configured image model, all with the same capabilities."""
    return [
        ModelInfo(
            name=name,
            kind="image",
            versions=tuple(model.versions),
            default_version=model.default_version,
            image=caps,
            description=describe(name),
        )
        for name, model in config.models.items()
        if model.kind == "image"
    ]


def where(config: ProviderConfig) -> str:
    """`name (host:port)` for messages; never the userinfo part of the URL."""
    try:
        url = httpx.URL(config.base_url or "")
    except httpx.InvalidURL:
        return repr(config.name)
    port = f":{url.port}" if url.port else ""
    return f"{config.name!r} ({url.host}{port})"


def send(
    config: ProviderConfig, client: httpx.Client, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """One HTTP exchange; transport failures become Timeout or Unavailable.

    httpx's timeout bounds each read, not the whole answer: a server that trickles its body
    a little faster than that would hold the call for ever. So the body is read here against
    the same budget as a whole (`timeout`, else the provider's), and a slow stream is a
    Timeout too.
    """
    budget = kwargs.get("timeout")
    budget = float(budget) if isinstance(budget, int | float) else config.timeout_seconds
    end = time.monotonic() + budget
    try:
        with client.stream(method, url, **kwargs) as streamed:
            body = []
            for chunk in streamed.iter_bytes():
                body.append(chunk)
                if time.monotonic() > end:
                    raise Timeout(
                        f"{where(config)} did not finish its answer in {round(budget, 1):g} s"
                    )
    except httpx.TimeoutException as exc:
        raise Timeout(f"{where(config)} did not answer in time ({type(exc).__name__})") from None
    except httpx.RequestError as exc:
        # The exception text can carry the URL (and so any userinfo in it): name only its kind.
        raise Unavailable(f"cannot reach {where(config)} ({type(exc).__name__})") from None
    # The body is decoded already: the headers that described its encoding no longer apply.
    headers = [
        (name, value)
        for name, value in streamed.headers.multi_items()
        if name.lower() not in _FRAMING_HEADERS
    ]
    return httpx.Response(
        streamed.status_code,
        headers=headers,
        content=b"".join(body),
        request=streamed.request,
        extensions=streamed.extensions,
    )


def probe(client: httpx.Client, path: str, timeout: float) -> str | None:
    """None when `GET path` is answered in time (any status but 401, 403 or 5xx), else why not."""
    try:
        response = client.get(path, timeout=timeout)
    except httpx.TimeoutException:
        return f"no answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        return f"cannot connect ({type(exc).__name__})"
    if response.status_code in (401, 403):
        return f"the server refused the credentials (HTTP {response.status_code})"
    if response.status_code >= 500:
        return f"the server is failing (HTTP {response.status_code})"
    return None


def json_body(config: ProviderConfig, response: httpx.Response) -> Any:
    """The parsed JSON body, or Unavailable when it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Unavailable(
            f"{where(config)} answered HTTP {response.status_code} with a body that is not JSON"
        ) from None


def error_body(response: httpx.Response) -> Any:
    """The JSON body of an error answer, or None (proxies answer errors in HTML)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def raise_for_status(config: ProviderConfig, response: httpx.Response, detail: str) -> None:
    """Map the error statuses both servers share; `detail` is the server's own words."""
    status = response.status_code
    if status < 400:
        return
    detail = shorten(detail or response.reason_phrase)
    if status == 429:
        raise RateLimited(f"{where(config)} is rate limiting: {detail}", retry_after(response))
    if status in (401, 403):
        raise Unavailable(
            f"{where(config)} refused our credentials (HTTP {status}); check its api_key setting"
        )
    if status >= 500:
        raise Unavailable(f"{where(config)} failed (HTTP {status}): {detail}")
    raise InvalidRequest(f"{where(config)} refused the request (HTTP {status}): {detail}")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - datetime.now(UTC).timestamp())


def media_type(data: bytes) -> str | None:
    """The image type the bytes start with (PNG, JPEG or WebP), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def shorten(text: str, limit: int = _DETAIL_CHARS) -> str:
    """One line of at most `limit` characters (server messages can run to kilobytes)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Deadline:
    """An overall time budget shared by several requests."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        """Whether the budget is spent."""
        return self.remaining() <= 0.0
