"""A local fake of the OpenAI API, following the published shapes in
/work/shared/fixtures/openai/images-openapi.yaml: POST /v1/images/generations,
/v1/images/edits (multipart) and /v1/chat/completions.

It checks the bearer key (401 otherwise; unlike the real API, which masks it, the message
echoes the key it got, so that tests catch an adapter that repeats provider messages
unfiltered), validates each model's fields like the real API, paints real solid-colour images
(colour from the prompt) and answers with b64_json or with URLs it serves at /files/{id}.png.

Fault injection, changed at runtime with POST /_fake/config and reproducible from `seed`:
each /v1 request draws one number and gets a 429 (with Retry-After), a 500, a stall longer
than the client's timeout, a malformed body (`malformed_kind`: a truncated body, not JSON,
the wrong shape, or base64 of bytes that are no image) or a connection reset (TCP RST, no
answer), by the configured rates. Prompts containing
`reject_marker` are refused by the content policy. `slow_stream_seconds` drips response bodies
(all, or those under `slow_stream_only`).
Every request is recorded (time.time(), path, model, prompt): GET /_fake/requests; POST
/_fake/reset forgets them and restores the default faults.

In a test: `with running_fake_openai() as server: ...` (a uvicorn thread on 127.0.0.1 and a
free port). For a subprocess: `python -m tests.fakes.openai_server --port N`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import random
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from tests.fakes import openai_rules as rules
from tests.fakes.fault_injection import NOT_AN_IMAGE, RESET_FLAG, resettable, spoiled
from tests.fakes.openai_rules import ApiError

DEFAULT_API_KEY = "sk-fake-promptcanvas-0123456789"
_ROLES = ("system", "developer", "user", "assistant")


class Faults(BaseModel):
    """Fault injection settings; rates are probabilities per /v1 request."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    rate_429: float = Field(default=0.0, ge=0, le=1)
    retry_after: str | None = "2"  # the Retry-After header sent with a 429
    retry_after_ms: str | None = None  # OpenAI's own retry-after-ms header, when set
    rate_500: float = Field(default=0.0, ge=0, le=1)
    rate_timeout: float = Field(default=0.0, ge=0, le=1)
    stall_seconds: float = Field(default=5.0, ge=0)  # how long a "timeout" stalls
    rate_malformed: float = Field(default=0.0, ge=0, le=1)
    malformed_kind: Literal["truncated", "not_json", "wrong_shape", "bad_base64"] = "truncated"
    rate_reset: float = Field(default=0.0, ge=0, le=1)
    reject_marker: str | None = None
    slow_stream_seconds: float = Field(default=0.0, ge=0)  # drip each body over this long
    slow_stream_only: str | None = None  # ...only for paths starting with this ("/files/")


class FakeState:
    """Everything the fake remembers; touched only from the server's event loop."""

    def __init__(self, api_key: str, faults: Faults) -> None:
        self.api_key = api_key
        self.defaults = faults
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.requests: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.stopping = threading.Event()

    def configure(self, values: dict[str, Any]) -> None:
        """Merge new fault settings and restart the random sequence from their seed."""
        self.faults = Faults.model_validate({**self.faults.model_dump(), **values})
        self.rng = random.Random(self.faults.seed)

    def reset(self) -> None:
        """Forget requests and files; back to the faults the server started with."""
        self.requests.clear()
        self.files.clear()
        self.faults = self.defaults
        self.rng = random.Random(self.defaults.seed)


def create_app(api_key: str = DEFAULT_API_KEY, faults: Faults | None = None) -> FastAPI:
    """The fake as an ASGI app; `app.state.fake` is its FakeState."""
    state = FakeState(api_key, faults or Faults())
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.fake = state

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.post("/v1/images/generations")
    async def generations(request: Request) -> Response:
        entry = _record(state, request)
        body = await _json_body(request)
        model = str(body.get("model") or "dall-e-2")
        entry.update(model=model, prompt=body.get("prompt"))
        fault = await _front_door(state, request)
        if fault is not None:
            return fault
        model_rules = rules.rules_for(model, edit=False)
        rules.check_image_fields(model_rules, body, rules.GENERATION_FIELDS)
        entry["accepted"] = True
        return await _images(state, request, model_rules, body, inputs=0)

    @app.post("/v1/images/edits")
    async def edits(request: Request) -> Response:
        entry = _record(state, request)
        form = await request.form()
        try:
            body: dict[str, Any] = {}
            images: list[bytes] = []
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if name in ("image", "image[]"):
                        images.append(await value.read())
                    body[name] = "<file>"
                else:
                    body[name] = int(value) if name in ("n", "output_compression") else value
        except ValueError:
            raise ApiError(400, "n and output_compression must be integers.") from None
        finally:
            await form.close()
        model = str(body.get("model") or "gpt-image-1")
        entry.update(model=model, prompt=body.get("prompt"))
        fault = await _front_door(state, request)
        if fault is not None:
            return fault
        model_rules = rules.rules_for(model, edit=True)
        rules.check_image_fields(model_rules, body, rules.EDIT_FIELDS)
        if not images:
            raise ApiError(400, "Missing required parameter: 'image'.", param="image")
        _check_edit_images(model_rules, images)
        entry["accepted"] = True
        body.pop("image", None)
        body.pop("image[]", None)
        body.pop("mask", None)
        return await _images(state, request, model_rules, body, inputs=len(images))

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        entry = _record(state, request)
        body = await _json_body(request)
        model = body.get("model")
        entry["model"] = model
        fault = await _front_door(state, request)
        if fault is not None:
            return fault
        text, pictures = _chat_inputs(body.get("messages"))
        entry["prompt"] = text
        if not isinstance(model, str) or not model:
            raise ApiError(400, "Missing required parameter: 'model'.", param="model")
        entry["accepted"] = True
        return _send(state, request, _chat_answer(state, body, model, text, pictures))

    @app.get("/files/{name}")
    async def files(name: str, request: Request) -> Response:
        _record(state, request)
        data = state.files.get(name.removesuffix(".png"))
        if data is None:
            raise ApiError(404, "No such file.", code="not_found")
        slow = _stream(state, request, data, "image/png")
        return slow or Response(data, media_type="image/png")

    @app.post("/_fake/config")
    async def configure(request: Request) -> dict[str, Any]:
        try:
            state.configure(await request.json())
        except (ValueError, TypeError) as exc:
            raise ApiError(400, f"bad fault config: {exc}") from None
        return state.faults.model_dump()

    @app.get("/_fake/requests")
    async def recorded() -> list[dict[str, Any]]:
        return state.requests

    @app.post("/_fake/reset")
    async def reset() -> dict[str, str]:
        state.reset()
        return {"status": "reset"}

    return app


def _record(state: FakeState, request: Request) -> dict[str, Any]:
    """Note a request as it arrives; handlers fill in model and prompt once they can."""
    entry = {
        "time": time.time(),
        "path": request.url.path,
        "model": None,
        "prompt": None,
        "accepted": False,
    }
    state.requests.append(entry)
    return entry


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


async def _front_door(state: FakeState, request: Request) -> Response | None:
    """Authentication, then the injected faults, in the order a real front end applies them."""
    auth = request.headers.get("authorization", "")
    if auth != f"Bearer {state.api_key}":
        given = auth.removeprefix("Bearer ")
        raise ApiError(
            401,
            f"Incorrect API key provided: {given}. You can find your API key in your settings.",
            code="invalid_api_key",
        )
    faults = state.faults
    draw = state.rng.random()
    if draw < faults.rate_429:
        headers = {}
        if faults.retry_after is not None:
            headers["retry-after"] = faults.retry_after
        if faults.retry_after_ms is not None:
            headers["retry-after-ms"] = faults.retry_after_ms
        raise ApiError(
            429,
            "Rate limit reached for requests. Please try again later.",
            type="requests",
            code="rate_limit_exceeded",
            headers=headers,
        )
    draw -= faults.rate_429
    if draw < faults.rate_500:
        raise ApiError(
            500,
            "The server had an error while processing your request. Sorry about that!",
            type="server_error",
        )
    draw -= faults.rate_500
    if draw < faults.rate_timeout:
        end = time.monotonic() + faults.stall_seconds
        while time.monotonic() < end and not state.stopping.is_set():
            await asyncio.sleep(0.02)
        return None
    draw -= faults.rate_timeout
    if draw < faults.rate_malformed:
        image = base64.b64encode(rules.make_image("malformed", (256, 256), "png")).decode()
        body = json.dumps({"created": 1700000000, "data": [{"b64_json": image}]}).encode()
        if faults.malformed_kind == "bad_base64":
            body = body.replace(image.encode(), base64.b64encode(NOT_AN_IMAGE))
        elif faults.malformed_kind == "truncated":
            body = body[:60]
        else:
            body = spoiled(body, faults.malformed_kind, "application/json")
        return Response(body, 200, media_type="application/json")
    draw -= faults.rate_malformed
    if draw < faults.rate_reset:
        request.scope[RESET_FLAG] = True
        return Response(status_code=500)
    return None


def _rejected(state: FakeState, text: str) -> bool:
    marker = state.faults.reject_marker
    return marker is not None and marker != "" and marker.lower() in text.lower()


async def _images(
    state: FakeState, request: Request, model: rules.ModelRules, body: dict[str, Any], inputs: int
) -> Response:
    prompt = body["prompt"]
    if _rejected(state, prompt):
        if model.gpt:
            raise ApiError(
                400,
                "Your request was rejected by the safety system. safety_violations=[marker].",
                code="moderation_blocked",
            )
        raise ApiError(
            400,
            "Your request was rejected as a result of our safety system. "
            "Your prompt may contain text that is not allowed by our safety system.",
            code="content_policy_violation",
        )
    size = rules.actual_size(model, body)
    quality = rules.actual_quality(model, body)
    n = body.get("n", 1)
    fmt = body.get("output_format", "png") if model.gpt else "png"
    answer: dict[str, Any] = {"created": int(time.time()), "data": []}
    for index in range(n):
        data = rules.make_image(f"{prompt}\x00{index}", size, fmt)
        if not model.gpt and body.get("response_format", "url") == "url":
            file_id = uuid.uuid4().hex
            state.files[file_id] = data
            item: dict[str, Any] = {
                "url": f"{str(request.base_url).rstrip('/')}/files/{file_id}.png"
            }
        else:
            item = {"b64_json": base64.b64encode(data).decode()}
        if model.name == "dall-e-3":
            item["revised_prompt"] = f"A detailed, vivid rendering of: {prompt}"
        answer["data"].append(item)
    if model.gpt:
        background = body.get("background") or "auto"
        answer.update(
            background="opaque" if background == "auto" else background,
            output_format=fmt,
            size=f"{size[0]}x{size[1]}",
            quality=quality,
            usage=rules.image_usage(prompt, quality, size, n, inputs),
        )
    return _send(state, request, answer)


def _check_edit_images(model: rules.ModelRules, images: list[bytes]) -> None:
    for data in images:
        try:
            width, height = rules.image_size(data)
        except Exception:
            raise ApiError(400, "Invalid image file or mode for image.", param="image") from None
        if not model.gpt:
            if len(images) > 1 or not data.startswith(b"\x89PNG") or width != height:
                raise ApiError(400, "dall-e-2 edits take one square PNG image.", param="image")
            if len(data) > 4 * 1024 * 1024:
                raise ApiError(400, "Image must be less than 4 MB.", param="image")


def _chat_inputs(messages: Any) -> tuple[str, list[bytes]]:
    """The text of the last user message and every image in the conversation."""
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "Missing required parameter: 'messages'.", param="messages")
    text, pictures = "", []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise ApiError(400, "Invalid message in 'messages'.", param="messages")
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(parts, list):
            raise ApiError(400, "Invalid 'content' in 'messages'.", param="messages")
        for part in parts:
            if not isinstance(part, dict):
                raise ApiError(400, "Invalid content part in 'messages'.", param="messages")
            if part.get("type") == "text" and message["role"] == "user":
                text = str(part.get("text", ""))
            elif part.get("type") == "image_url":
                url = str(part.get("image_url", {}).get("url", ""))
                head, _, payload = url.partition(",")
                if not head.startswith("data:image/") or not head.endswith(";base64"):
                    raise ApiError(400, "This fake only takes data: image URLs.", param="messages")
                try:
                    pictures.append(base64.b64decode(payload, validate=True))
                except binascii.Error:
                    raise ApiError(400, "Invalid base64 image.", param="messages") from None
    return text, pictures


def _chat_answer(
    state: FakeState, body: dict[str, Any], model: str, text: str, pictures: list[bytes]
) -> dict[str, Any]:
    refusal = None
    if _rejected(state, text):
        content, refusal = None, "I'm sorry, I can't help with that."
    elif pictures:
        try:
            content = "I see " + "; ".join(rules.describe_image(p) for p in pictures) + "."
        except Exception:
            raise ApiError(400, "Invalid image in 'messages'.", param="messages") from None
    else:
        content = f"Echo: {text}"
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    finish = "stop"
    if content is not None and isinstance(limit, int) and rules.count_tokens(content) > limit:
        content, finish = content[: limit * 4], "length"
    prompt_tokens = rules.count_tokens(text) + 85 * len(pictures)
    completion_tokens = rules.count_tokens(content or refusal or "")
    message = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
    return {
        "id": f"chatcmpl-fake{len(state.requests)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_fake",
    }


def _send(state: FakeState, request: Request, answer: dict[str, Any]) -> Response:
    data = json.dumps(answer).encode()
    slow = _stream(state, request, data, "application/json")
    return slow or Response(data, media_type="application/json")


def _stream(state: FakeState, request: Request, data: bytes, media_type: str) -> Response | None:
    """A response that drips data over slow_stream_seconds, or None when that is off."""
    seconds = state.faults.slow_stream_seconds
    only = state.faults.slow_stream_only
    if seconds <= 0 or (only is not None and not request.url.path.startswith(only)):
        return None
    pieces = 10

    async def drip() -> AsyncIterator[bytes]:
        step = -(-len(data) // pieces)
        for start in range(0, len(data), step):
            if not state.stopping.is_set():
                await asyncio.sleep(seconds / pieces)
            yield data[start : start + step]

    return StreamingResponse(drip(), media_type=media_type)


@dataclass
class FakeServer:
    """A running fake: its base URL (`api_url` is what an OpenAI client takes) and controls.

    Works the same for the in-thread server and for one started as a subprocess.
    """

    url: str
    api_key: str = DEFAULT_API_KEY

    @property
    def api_url(self) -> str:
        """The base URL for an OpenAI client."""
        return f"{self.url}/v1"

    def configure(self, **faults: Any) -> None:
        """Change fault injection (see Faults) from now on."""
        self._call("POST", "/_fake/config", json=faults)

    def requests(self) -> list[dict[str, Any]]:
        """Every request recorded since the last reset."""
        found: list[dict[str, Any]] = self._call("GET", "/_fake/requests").json()
        return found

    def reset(self) -> None:
        """Forget recorded requests and restore the starting faults."""
        self._call("POST", "/_fake/reset")

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(base_url=self.url, trust_env=False, timeout=10) as client:
            response = client.request(method, path, **kwargs)
        response.raise_for_status()
        return response


@contextmanager
def running_fake_openai(api_key: str = DEFAULT_API_KEY, **faults: Any) -> Iterator[FakeServer]:
    """Serve the fake from a background thread on 127.0.0.1 and a free port."""
    app = create_app(api_key, Faults(**faults))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        resettable(app),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        http="h11",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        yield FakeServer(f"http://127.0.0.1:{port}", api_key)
    finally:
        app.state.fake.stopping.set()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main() -> None:
    """`python -m tests.fakes.openai_server --port N`: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    app = create_app(args.api_key, Faults(seed=args.seed))
    config = uvicorn.Config(app, host=args.host, port=args.port, lifespan="off", ws="none")
    print(f"fake OpenAI on http://{args.host}:{args.port}/v1", flush=True)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
