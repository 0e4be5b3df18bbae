"""Security headers on every response, as ASGI middleware.

Every answer (pages, JSON, files, errors, 404s, redirects) gets the strict CSP of the web UI
unless its route set its own, plus nosniff, no-referrer and DENY framing; over HTTPS also HSTS.
The API docs (/docs, /redoc) load FastAPI's viewer scripts from its CDN and start it with one
inline script: they get a CSP naming that CDN and the hash of exactly that script, never
'unsafe-inline' for scripts.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promptcanvas.entrypoints.web.base import SECURITY_HEADERS

DOCS_PATHS = frozenset({"/docs", "/redoc"})
HSTS = "max-age=31536000"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
_CDN = "https://cdn.jsdelivr.net"


def docs_csp(html: bytes) -> str:
    """The CSP for a docs page: its CDN, and the hashes of its inline scripts."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {_CDN} {hashes}; "
        f"style-src 'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com; "
        "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
        "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Add the headers a response lacks; never replace ones a route chose."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        if scope.get("path") in DOCS_PATHS:
            await self._docs(scope, receive, send, https)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add(MutableHeaders(scope=message), SECURITY_HEADERS, https)
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send, https: bool) -> None:
        """Hold the (small) docs page until its body is known, to hash its inline script."""
        start: Message | None = None
        body = bytearray()

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            headers = MutableHeaders(scope=start)
            _add(
                headers,
                {**SECURITY_HEADERS, "Content-Security-Policy": docs_csp(bytes(body))},
                https,
            )
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, buffered)


def _add(headers: MutableHeaders, wanted: dict[str, str], https: bool) -> None:
    for name, value in wanted.items():
        if name not in headers:
            headers[name] = value
    if https and "strict-transport-security" not in headers:
        headers["Strict-Transport-Security"] = HSTS
