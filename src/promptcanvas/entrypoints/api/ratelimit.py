"""Per-caller request rate limits as ASGI middleware: 429 with Retry-After over the limit.

The caller is the API key of `Authorization: Bearer`, else the browser session cookie, else
(signed out) the client address. Every request takes a token from the caller's bucket;
submitting work (generations, uploads, imports, batches, grids, job retries) also takes one
from a second, smaller bucket. A refused request never reaches the app, so it changes nothing.
Health checks, metrics and static files are never limited.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict

import anyio.to_thread
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promptcanvas.bootstrap import Container
from promptcanvas.entrypoints.api.deps import SESSION_COOKIE
from promptcanvas.entrypoints.api.errors import error_response
from promptcanvas.ports.ratelimit import Rate

MAX_VERIFIED = 100_000
_EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
_HEAVY = re.compile(
    r"^/api/v1/(generations|assets|imports|batches|grids|jobs/[^/]+/retry|batches/[^/]+/retry)/?$"
)


def caller(scope: Scope) -> tuple[str | None, str]:
    """(the bucket name of the credential the request presents, if any; the bucket name of
    its address). Secrets appear only as a hash prefix."""
    conn = HTTPConnection(scope)
    address = "addr:" + (conn.client.host if conn.client else "unknown")
    header = conn.headers.get("authorization", "")
    if header:
        return "key:" + _digest(header.partition(" ")[2].strip()), address
    session = conn.cookies.get(SESSION_COOKIE)
    if session:
        return "session:" + _digest(session), address
    return None, address


class Verified:
    """Credentials the app accepted lately (a success on an /api/ route), most recent last.

    Until a credential is known to be real, its requests spend from its address's bucket too:
    a made-up key or cookie on every request would otherwise get a fresh, full bucket each
    time and escape the limit of its address. Per process; a credential new to a replica
    spends its first requests from its address's bucket as well.
    """

    def __init__(self, limit: int = MAX_VERIFIED) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, who: str) -> bool:
        return who in self._seen

    def add(self, who: str) -> None:
        self._seen[who] = None
        self._seen.move_to_end(who)
        if len(self._seen) > self.limit:
            self._seen.popitem(last=False)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


class RateLimit:
    """Token buckets per caller (container.rate_limiter), read from settings on each request."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.container = container
        self.verified = Verified()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path in _EXEMPT or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        settings = self.container.settings
        credential, address = caller(scope)
        # A credential not yet known to be real also spends from its address's bucket.
        if credential is None:
            callers = [address]
        elif credential in self.verified:
            callers = [credential]
        else:
            callers = [credential, address]
        checks = [("all", Rate(settings.rate_limit_per_second, settings.rate_limit_burst))]
        if scope.get("method") == "POST" and _HEAVY.match(path):
            heavy = Rate(settings.rate_limit_heavy_per_second, settings.rate_limit_heavy_burst)
            checks.insert(0, ("heavy", heavy))
        for bucket, rate in checks:
            if rate.per_second <= 0:
                continue
            for who in callers:
                wait = await self._take(f"{bucket}:{who}", rate)
                if wait > 0:
                    await _refuse(scope, receive, send, wait, bucket, rate)
                    return
        if credential is None or credential in self.verified or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def noting_send(message: Message) -> None:
            # Every /api/ route needs a real credential (the authorisation matrix test holds
            # this), so a success there proves it; pages and public routes prove nothing.
            if message["type"] == "http.response.start" and message["status"] < 400:
                self.verified.add(credential)
            await send(message)

        await self.app(scope, receive, noting_send)

    async def _take(self, key: str, rate: Rate) -> float:
        limiter = self.container.rate_limiter
        if limiter.blocking:
            return await anyio.to_thread.run_sync(limiter.take, key, rate)
        return limiter.take(key, rate)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, wait: float, bucket: str, rate: Rate
) -> None:
    retry_after = max(1, math.ceil(wait))
    what = "work submitted" if bucket == "heavy" else "requests"
    response = error_response(
        429,
        "rate_limited",
        f"too many {what} from this caller (at most {rate.per_second:g} a second, "
        f"bursts of {rate.burst}); try again in {retry_after} s",
        {
            "retry_after": retry_after,
            "per_second": rate.per_second,
            "burst": rate.burst,
            "bucket": bucket,
        },
        {"Retry-After": str(retry_after)},
    )
    await response(scope, receive, send)
