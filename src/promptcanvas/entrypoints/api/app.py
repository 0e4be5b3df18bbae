"""The FastAPI application: API routers, web pages, error handlers, body-size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promptcanvas import __version__
from promptcanvas.bootstrap import Container
from promptcanvas.entrypoints.api import errors
from promptcanvas.entrypoints.api.ratelimit import RateLimit
from promptcanvas.entrypoints.api.routes import (
    account,
    assets,
    batches,
    generations,
    imports,
    job_events,
    labels,
    meta,
    metrics,
    outputs,
    portfolios,
    prompts,
    providers,
    recommendations,
    similar,
)
from promptcanvas.entrypoints.api.security import SecurityHeaders
from promptcanvas.entrypoints.web import (
    gallery,
    jobs_pages,
    pages,
    portfolio_pages,
    prompt_pages,
    settings_pages,
)

_SLACK = 1024 * 1024  # room for multipart headers and form fields around the file


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over a limit with 413, before they are parsed or spooled."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._reject(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.error_response(
            413,
            "too_large",
            f"the request body is larger than {self.limit:,} bytes",
            {"limit": self.limit},
            {"connection": "close"},
        )
        await response(scope, receive, send)


def create_app(container: Container, *, workers: bool = False) -> Any:
    """Build the ASGI app around a container; `workers` runs the embedded job workers in it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool = container.worker_pool() if workers and container.settings.workers else None
        if pool is not None:
            pool.start()
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="PromptCanvas",
        version=__version__,
        description=(
            "Keep every prompt with everything it produced. All /api/v1 routes need "
            "`Authorization: Bearer <key>` (create one with `promptcanvas keys create`)."
        ),
    )
    app.state.container = container
    errors.install(app)
    app.include_router(meta.router)
    app.include_router(prompts.router)
    app.include_router(similar.router)
    app.include_router(recommendations.router)
    app.include_router(assets.router)
    app.include_router(labels.router)
    app.include_router(job_events.router)  # before generations: /jobs/events is not a job id
    app.include_router(generations.router)
    app.include_router(batches.router)
    app.include_router(imports.router)
    app.include_router(outputs.router)
    app.include_router(portfolios.router)
    app.include_router(account.router)
    app.include_router(providers.router)
    app.include_router(metrics.router)
    pages.install(app)
    for web in (pages, gallery, prompt_pages, jobs_pages, portfolio_pages, settings_pages):
        app.include_router(web.router)
    # Outermost first: every answer gets the security headers (a 413 or 429 too); a caller over
    # its rate limit is refused before its body is read.
    limited = BodyLimit(app, container.settings.max_upload_bytes + _SLACK)
    return SecurityHeaders(RateLimit(limited, container))
