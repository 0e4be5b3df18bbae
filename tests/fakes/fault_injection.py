"""Runtime fault injection and request recording for the fake provider servers.

`install(app, config_type)` adds, to any FastAPI app:
- `POST /_fake/config` (a partial update of the faults, answered with all of them),
- `GET /_fake/requests` (every request to the API so far: arrival `time` (time.time()),
  method, path, query, authorization header and JSON body) and `POST /_fake/reset` (forget
  requests, restore default faults),
- a middleware that, before the real handler, waits `delay_seconds`, then answers 429 with
  `Retry-After` at `rate_limit_rate` and 500 at `error_rate` (rates from 0 to 1).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Faults(BaseModel):
    """What the fake gets wrong on purpose; a fake adds its own fields by subclassing."""

    model_config = ConfigDict(extra="forbid")

    rate_limit_rate: float = Field(default=0.0, ge=0, le=1)
    retry_after: float | None = Field(default=1.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    delay_seconds: float = Field(default=0.0, ge=0, le=60)


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
        return await call_next(request)

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
