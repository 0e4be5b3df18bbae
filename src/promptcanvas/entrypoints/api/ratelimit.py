"""Per-caller request rate limits as ASGI middleware: 429 with Retry-After over the limit.

The caller is the API key of `Authorization: Bearer`, else the browser session cookie, else
(signed out) the client address. Every request takes a token from the caller's bucket;
submitting work (generations, uploads, imports, batches, grids, job retries) also takes one
from a second, smaller bucket. A refused request never reaches the app, so it changes nothing.
Health checks, metrics and static files are never limited.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

import anyio.to_thread
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from promptcanvas.bootstrap import Container
from promptcanvas.entrypoints.api.deps import SESSION_COOKIE
from promptcanvas.ports.ratelimit import Rate

_EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
_HEAVY = re.compile(
    r"^/api/v1/(generations|assets|imports|batches|grids|jobs/[^/]+/retry|batches/[^/]+/retry)/?$"
)


def caller(scope: Scope) -> str:
    """The bucket name of a request's caller; secrets appear only as a hash prefix."""
    conn = HTTPConnection(scope)
    header = conn.headers.get("authorization", "")
    if header:
        return "key:" + _digest(header.partition(" ")[2].strip())
    session = conn.cookies.get(SESSION_COOKIE)
    if session:
        return "session:" + _digest(session)
    return "addr:" + (conn.client.host if conn.client else "unknown")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


class RateLimit:
    """Token buckets per caller (container.rate_limiter), read from settings on each request."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path in _EXEMPT or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        settings = self.container.settings
        who = caller(scope)
        checks = [("all", Rate(settings.rate_limit_per_second, settings.rate_limit_burst))]
        if scope.get("method") == "POST" and _HEAVY.match(path):
            heavy = Rate(settings.rate_limit_heavy_per_second, settings.rate_limit_heavy_burst)
            checks.insert(0, ("heavy", heavy))
        for bucket, rate in checks:
            if rate.per_second <= 0:
                continue
            wait = await self._take(f"{bucket}:{who}", rate)
            if wait > 0:
                await _refuse(send, wait, bucket, rate)
                return
        await self.app(scope, receive, send)

    async def _take(self, key: str, rate: Rate) -> float:
        limiter = self.container.rate_limiter
        if limiter.blocking:
            return await anyio.to_thread.run_sync(limiter.take, key, rate)
        return limiter.take(key, rate)


async def _refuse(send: Send, wait: float, bucket: str, rate: Rate) -> None:
    retry_after = max(1, math.ceil(wait))
    what = "work submitted" if bucket == "heavy" else "requests"
    body = json.dumps(
        {
            "error": {
                "code": "rate_limited",
                "message": (
                    f"too many {what} from this caller (at most {rate.per_second:g} a second, "
                    f"bursts of {rate.burst}); try again in {retry_after} s"
                ),
                "details": {
                    "retry_after": retry_after,
                    "per_second": rate.per_second,
                    "burst": rate.burst,
                    "bucket": bucket,
                },
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
