"""Runtime fault injection and request recording for the fake provider servers.

`install(app, config_type)` adds, to any FastAPI app:
- `POST /_fake/config` (a partial update of the faults, answered with all of them),
- `GET /_fake/requests` (every request to the API so far: arrival `time` (time.time()),
  method, path, query, authorization header and JSON body) and `POST /_fake/reset` (forget
  requests, restore default faults),
- a middleware that, before the real handler, waits `delay_seconds`, then answers 429 with
  `Retry-After` at `rate_limit_rate` and 500 at `error_rate` (rates from 0 to 1), resets the
  connection (TCP RST, no answer at all) at `reset_rate`; after it, spoils a 200 answer at
  `malformed_rate` the way `malformed` says (`not_json`: an HTML page; `wrong_shape`: a JSON
  object without the expected fields; `truncated`: the body cut in half; `bad_base64`: every
  base64 PNG string replaced by valid base64 of bytes that are not an image, and a binary
  image body by such bytes), and drips the body at `slow_stream_seconds` (headers at once,
  then four pieces each after that pause, so a client's read timeout below it fires).
  `faults_only` limits malformed bodies and slow streams to paths starting with it.

The connection reset needs the transport, which only the server's own `send` carries: serve
the app wrapped in `resettable(app)` (`serve.running_app` does).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

RESET_FLAG = "fake.reset_connection"  # set in the ASGI scope: `resettable` drops the connection
NOT_AN_IMAGE = b"this is not an image, just bytes"
Malformed = Literal["not_json", "wrong_shape", "truncated", "bad_base64"]


class Faults(BaseModel):
    """What the fake gets wrong on purpose; a fake adds its own fields by subclassing."""

    model_config = ConfigDict(extra="forbid")

    rate_limit_rate: float = Field(default=0.0, ge=0, le=1)
    retry_after: float | None = Field(default=1.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    delay_seconds: float = Field(default=0.0, ge=0, le=60)
    reset_rate: float = Field(default=0.0, ge=0, le=1)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    malformed: Malformed = "not_json"
    slow_stream_seconds: float = Field(default=0.0, ge=0, le=60)
    faults_only: str | None = None  # path prefix for malformed bodies and slow streams


class Recorder:
    """The faults in force and the requests seen; safe to use from any thread."""

    def __init__(self, faults: Faults) -> None:
        self._initial = faults
        self.faults = faults
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._random = random.Random()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self.faults = self._initial

    def update(self, changes: dict[str, Any]) -> Faults:
        with self._lock:
            merged = {**self.faults.model_dump(), **changes}
            self.faults = type(self.faults).model_validate(merged)
            return self.faults

    def roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._random.random() < rate


ErrorBody = Callable[[int, str], dict[str, Any]]


def spoiled(body: bytes, how: str, media_type: str) -> bytes:
    """`body` made malformed in the named way (see the module docstring)."""
    if how == "not_json":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    if how == "wrong_shape":
        return b'{"object": "unexpected", "data": null}'
    if how == "truncated":
        return body[: len(body) // 2]
    if not media_type.startswith("application/json"):
        return NOT_AN_IMAGE
    return json.dumps(_swap_images(json.loads(body))).encode()


def _swap_images(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("iVBOR"):
        return base64.b64encode(NOT_AN_IMAGE).decode()
    if isinstance(value, list):
        return [_swap_images(item) for item in value]
    if isinstance(value, dict):
        return {key: _swap_images(item) for key, item in value.items()}
    return value


async def drip(body: bytes, pause: float, pieces: int = 4) -> AsyncIterator[bytes]:
    """The body in `pieces`, each after `pause` seconds."""
    step = max(1, -(-len(body) // pieces))
    for start in range(0, len(body), step):
        await asyncio.sleep(pause)
        yield body[start : start + step]


def resettable(app: Any) -> Any:
    """`app` with connection resets: a response to a request whose scope carries RESET_FLAG
    is never sent; the connection is closed with a TCP RST instead (SO_LINGER 0)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        dropped = False

        async def guarded(message: dict[str, Any]) -> None:
            nonlocal dropped
            if not dropped and scope.get(RESET_FLAG) and message["type"] == "http.response.start":
                dropped = True
                transport = getattr(getattr(send, "__self__", None), "transport", None)
                if transport is not None:
                    sock = transport.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    transport.abort()
                    await asyncio.sleep(0.01)  # let the server see the connection gone
            if dropped:
                return
            await send(message)

        await app(scope, receive, guarded)

    return wrapped


def install(app: FastAPI, faults: Faults, error_body: ErrorBody) -> Recorder:
    """Add fault injection and recording to `app`; `error_body(status, message)` shapes the
    injected errors the way the imitated server would."""
    recorder = Recorder(faults)

    @app.middleware("http")
    async def inject(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        if request.url.path.startswith("/_fake/"):
            return await call_next(request)
        arrived = time.time()
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = raw.decode("latin-1")
        recorder.record(
            {
                "time": arrived,
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "authorization": request.headers.get("authorization"),
                "json": body,
            }
        )
        current = recorder.faults
        if current.delay_seconds:
            await asyncio.sleep(current.delay_seconds)
        if recorder.roll(current.rate_limit_rate):
            headers = {}
            if current.retry_after is not None:
                headers["Retry-After"] = f"{current.retry_after:g}"
            return JSONResponse(error_body(429, "Too Many Requests"), 429, headers=headers)
        if recorder.roll(current.error_rate):
            return JSONResponse(error_body(500, "injected failure"), 500)
        if recorder.roll(current.reset_rate):
            request.scope[RESET_FLAG] = True
            return Response(status_code=500)
        response = await call_next(request)
        only = current.faults_only
        if only is not None and not request.url.path.startswith(only):
            return response
        spoil = response.status_code == 200 and recorder.roll(current.malformed_rate)
        if not spoil and not current.slow_stream_seconds:
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        media_type = response.headers.get("content-type", "application/json")
        if spoil:
            body = spoiled(body, current.malformed, media_type)
        if current.slow_stream_seconds:
            return StreamingResponse(
                drip(body, current.slow_stream_seconds), response.status_code, media_type=media_type
            )
        return Response(body, response.status_code, media_type=media_type)

    @app.post("/_fake/config")
    def set_faults(changes: dict[str, Any]) -> Any:
        try:
            return recorder.update(changes).model_dump()
        except ValidationError as exc:
            return JSONResponse({"detail": json.loads(exc.json())}, 422)

    @app.get("/_fake/requests")
    def recorded() -> list[dict[str, Any]]:
        return recorder.requests()

    @app.post("/_fake/reset")
    def reset() -> dict[str, str]:
        recorder.reset()
        return {"status": "ok"}

    return recorder
