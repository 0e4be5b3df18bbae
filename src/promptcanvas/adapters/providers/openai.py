"""OpenAI, and servers that speak its API, through the official SDK: DALL-E 2, DALL-E 3 and
the GPT image models (rules in `openai_models`), chat completions and vision.

Decisions worth knowing:
- The SDK's own retries are off (`max_retries=0`): the job runner retries, once, for all
  adapters. Cost is not computed here either; results report what was used (size, quality,
  number of images, tokens) and the runner prices it from the config.
- A model version is a full snapshot id (`gpt-4o-mini-2024-07-18`); when one resolves, it is
  the model id sent to the API.
- DALL-E is asked for `b64_json` unless params say `"response_format": "url"`; URLs expire
  after an hour, so they are downloaded at once through the GuardedFetcher.
- A rejected key (401/403) or an exhausted quota (429 `insufficient_quota`) is Unavailable,
  not InvalidRequest (the request is fine, the account is not), and marked not retryable:
  retrying cannot fix it. So is a result URL that the fetch guard refuses.
- The SDK does not validate response bodies, so every field read here is type-checked; a
  body of the wrong shape, not JSON, cut short, or with image data that is no image is
  Unavailable, and so retryable: such bodies come from overloaded servers and proxies, and
  the next attempt usually gets a good one (the retry policy bounds the attempts, and the
  circuit breaker counts them as the provider being unhealthy).
- Provider messages are passed on shortened and with the API key blanked out; an SDK error
  whose text holds the key is not chained as the cause.
"""

from __future__ import annotations

import base64
import email.utils
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any, TypeVar, cast

import httpx
import openai
from openai.types import Image, ImagesResponse
from openai.types.chat import ChatCompletion

from promptcanvas.adapters.http.fetch import (
    FetchError,
    FetchRefused,
    FetchTimedOut,
    GuardedFetcher,
    safe_url,
)
from promptcanvas.adapters.providers.openai_models import (
    GPT_IMAGE,
    VISION_MAX_BYTES,
    VISION_TYPES,
    check_openai_image,
    family_for,
    model_infos,
    sniff,
)
from promptcanvas.ports.providers.base import (
    GeneratedImage,
    ImageModel,
    ImageRequest,
    ImageResult,
    ModelInfo,
    Progress,
    TextModel,
    TextRequest,
    TextResult,
    VisionModel,
    VisionRequest,
)
from promptcanvas.ports.providers.errors import (
    ContentRejected,
    InvalidRequest,
    ProviderError,
    RateLimited,
    Timeout,
    Unavailable,
)
from promptcanvas.settings import ProviderConfig

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
_POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked", "content_filter"})
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
_DETAIL_CHARS = 300

T = TypeVar("T")


class OpenAIProvider(ImageModel, TextModel, VisionModel):
    """The OpenAI API (or a compatible server at `base_url`) as image, text and vision models."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        fetcher: GuardedFetcher | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.provider = config.name
        self._config = config
        self._base_url = config.base_url or DEFAULT_BASE_URL
        self._models = model_infos(config)
        self._fetcher = fetcher or GuardedFetcher(
            allowed_origins=(self._base_url,),
            max_bytes=MAX_DOWNLOAD_BYTES,
            timeout=config.timeout_seconds,
        )
        # The SDK is typed for its httpx2 client but documents and accepts an httpx one.
        self._client = openai.OpenAI(
            api_key=config.api_key() or "unused",
            base_url=self._base_url,
            max_retries=0,
            timeout=config.timeout_seconds,
            http_client=cast(Any, http_client),
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(name={self.provider!r}, base_url={safe_url(self._base_url)!r})"

    def models(self) -> list[ModelInfo]:
        """The configured models, or dall-e-2, dall-e-3, gpt-image-1 and gpt-4o-mini."""
        return list(self._models)

    def health(self, timeout: float) -> str | None:
        """Whether the server answers `GET /models` in time (any status but 401, 403 or 5xx)."""
        try:
            self._client.with_options(timeout=timeout).models.list()
        except openai.APITimeoutError:
            return f"no answer within {timeout:g} s"
        except openai.APIConnectionError as exc:
            return f"cannot connect ({type(exc.__cause__ or exc).__name__})"
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                return f"the server refused the credentials (HTTP {exc.status_code})"
            if exc.status_code >= 500:
                return f"the server is failing (HTTP {exc.status_code})"
        except openai.OpenAIError:
            return None  # it answered, in a shape the SDK did not expect
        return None

    def validate_image(self, request: ImageRequest) -> None:
        """The shared checks with this model's capabilities, then OpenAI's own rules."""
        info = self.model(request.model, "image")
        self.resolve_version(info, request.version)
        check_openai_image(family_for(info.name) or GPT_IMAGE, request)

    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        """One images.generate (or images.edit with an init image) call."""
        self.validate_image(request)
        info = self.model(request.model, "image")
        version = self.resolve_version(info, request.version)
        family = family_for(info.name) or GPT_IMAGE
        params = dict(request.params)
        if family.dalle:
            params.setdefault("response_format", "b64_json")
        size = f"{request.width}x{request.height}"
        args: dict[str, Any] = {
            "model": version or info.name,
            "prompt": request.prompt,
            "n": request.n,
            "size": size,
            **params,
        }
        init = request.init_image
        if init is None:
            response = self._call(lambda: self._client.images.generate(**args))
        else:
            upload = ("image", init, sniff(init) or "image/png")
            response = self._call(lambda: self._client.images.edit(image=upload, **args))
        items = response.data if isinstance(response, ImagesResponse) else None
        if not isinstance(items, list) or not all(isinstance(i, Image) for i in items):
            raise Unavailable(f"{self._where} answered with a body of the wrong shape")
        if len(items) != request.n:
            raise Unavailable(f"{self._where} returned {len(items)} images for n={request.n}")
        details = {
            "size": _text(response.size) or size,
            "quality": _text(response.quality) or params.get("quality") or family.default_quality,
        }
        if _text(response.background):
            details["background"] = str(response.background)
        output_format = _text(response.output_format) or params.get("output_format") or "png"
        images = []
        for index, item in enumerate(items):
            data = self._image_bytes(item)
            if sniff(data) is None:  # valid base64 (or a download) of something else
                raise Unavailable(f"{self._where} returned image data that is not an image")
            images.append(
                GeneratedImage(
                    data,
                    sniff(data) or f"image/{output_format}",
                    revised_prompt=_text(item.revised_prompt),
                    info=dict(details),
                )
            )
            if progress is not None:
                progress((index + 1) / request.n)
        usage = {"images": len(images), **details, **_image_tokens(response.usage)}
        return ImageResult(tuple(images), model_version=version, usage=usage)

    def complete(self, request: TextRequest) -> TextResult:
        """One chat completion."""
        info = self.model(request.model, "text")
        version = self.resolve_version(info, request.version)
        if not request.messages:
            raise InvalidRequest("the conversation has no messages")
        for message in request.messages:
            if message.role not in ("system", "user", "assistant"):
                raise InvalidRequest(f"unknown message role {message.role!r}")
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        extra: dict[str, Any] = {"temperature": request.temperature}
        if request.seed is not None:
            extra["seed"] = request.seed
        return self._chat(version or info.name, messages, request.max_tokens, extra)

    def describe(self, request: VisionRequest) -> TextResult:
        """One chat completion with the image sent inline as a data: URL."""
        info = self.model(request.model, "vision")
        version = self.resolve_version(info, request.version)
        if request.media_type not in VISION_TYPES:
            raise InvalidRequest(
                f"{request.model!r} reads {', '.join(VISION_TYPES)}, not {request.media_type}"
            )
        if not request.image or len(request.image) > VISION_MAX_BYTES:
            raise InvalidRequest(f"{request.model!r} reads images of 1 byte to 20 MB")
        if not request.question.strip():
            raise InvalidRequest("the question is empty")
        data_url = f"data:{request.media_type};base64,{base64.b64encode(request.image).decode()}"
        content = [
            {"type": "text", "text": request.question},
            {"type": "image_url", "image_url": {"url": data_url}},
        ]
        messages = [{"role": "user", "content": content}]
        return self._chat(version or info.name, messages, request.max_tokens, {})

    @property
    def _where(self) -> str:
        return f"provider {self.provider!r}"

    def _chat(
        self, model: str, messages: list[dict[str, Any]], max_tokens: int, extra: dict[str, Any]
    ) -> TextResult:
        response = self._call(
            lambda: self._client.chat.completions.create(
                model=model,
                messages=cast(Any, messages),
                max_completion_tokens=max_tokens,
                **extra,
            )
        )
        choices = response.choices if isinstance(response, ChatCompletion) else None
        if not isinstance(choices, list) or not choices:
            raise Unavailable(f"{self._where} answered with a body of the wrong shape")
        finish = _text(getattr(choices[0], "finish_reason", None))
        message = getattr(choices[0], "message", None)
        text = _text(getattr(message, "content", None))
        refusal = _text(getattr(message, "refusal", None))
        if finish == "content_filter" or (refusal and not text):
            raise ContentRejected(self._scrub(refusal or "the answer was blocked by a filter"))
        if text is None:
            raise Unavailable(f"{self._where} answered with no text")
        usage: dict[str, Any] = {"finish_reason": finish}
        names = (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens"))
        for theirs, ours in (*names, ("total_tokens", "total_tokens")):
            value = getattr(response.usage, theirs, None)
            if type(value) is int:
                usage[ours] = value
        return TextResult(text, usage)

    def _image_bytes(self, item: Image) -> bytes:
        if isinstance(item.b64_json, str) and item.b64_json:
            try:
                return base64.b64decode(item.b64_json, validate=True)
            except ValueError:
                raise Unavailable(f"{self._where} returned image data that is not base64") from None
        if isinstance(item.url, str) and item.url:
            try:
                return self._fetcher.fetch(item.url).data
            except FetchError as exc:
                failure = exc
            message = f"cannot download an image {self._where} made: {failure.message}"
            if isinstance(failure, FetchTimedOut):
                raise Timeout(message)
            error = Unavailable(message)
            # A refused URL is not a passing fault: the next attempt would get another like it.
            error.retryable = not isinstance(failure, FetchRefused)
            raise error
        raise Unavailable(f"{self._where} returned an image without data or URL")

    def _call(self, send: Callable[[], T]) -> T:
        """Run one SDK call, translating its failures into our errors."""
        try:
            return send()
        except (openai.OpenAIError, ValueError) as exc:  # ValueError: a body that is not JSON
            failure: Exception = exc
        # Raised outside the except block, so an SDK error that quotes the key is not even
        # kept as __context__; it is chained as the cause only when it does not.
        error = self._translate(failure)
        key = self._config.api_key()
        if not key or key not in f"{failure!s} {getattr(failure, 'body', '')!s}":
            error.__cause__ = failure
        raise error

    def _translate(self, exc: Exception) -> ProviderError:
        where = self._where
        if isinstance(exc, openai.APITimeoutError):
            return Timeout(f"{where} did not answer within {self._config.timeout_seconds:g} s")
        if isinstance(exc, openai.APIConnectionError):
            return Unavailable(f"cannot reach {where} at {safe_url(self._base_url)}")
        if not isinstance(exc, openai.APIStatusError):
            return Unavailable(f"{where} answered with a body we cannot read")
        status = exc.status_code
        detail = self._detail(exc)
        code = exc.code or ""
        if status == 429 and code not in _QUOTA_CODES:
            return RateLimited(f"{where} is rate limiting: {detail}", _retry_after(exc.response))
        if status in (401, 403, 429):
            what = "has no quota left" if status == 429 else "authentication failed"
            error = Unavailable(
                f"{where}: {what} (HTTP {status}): {detail}; check its API key and account"
            )
            error.retryable = False
            return error
        if status == 408:
            return Timeout(f"{where} timed out: {detail}")
        if status >= 500:
            return Unavailable(f"{where} failed (HTTP {status}): {detail}")
        if code in _POLICY_CODES or "safety" in code or "safety system" in detail.lower():
            return ContentRejected(detail)
        return InvalidRequest(f"{where} refused the request: {detail}")

    def _detail(self, exc: openai.APIStatusError) -> str:
        body = exc.body
        if isinstance(body, Mapping) and isinstance(body.get("message"), str):
            text = str(body["message"])
        elif isinstance(body, str) and body.strip():
            text = body
        else:
            text = f"HTTP {exc.status_code}"
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        key = self._config.api_key()
        if key:
            text = text.replace(key, "[redacted]")
        line = " ".join(text.split())
        return line if len(line) <= _DETAIL_CHARS else line[: _DETAIL_CHARS - 1] + "…"


def _text(value: Any) -> str | None:
    """value when it is a non-empty string (the SDK does not check what it parses)."""
    return value if isinstance(value, str) and value else None


def _image_tokens(usage: Any) -> dict[str, Any]:
    """The token counts of an images response, as plain ints and dicts."""
    found: dict[str, Any] = {}
    for name in ("input_tokens", "output_tokens", "total_tokens"):
        value = getattr(usage, name, None)
        if type(value) is int:
            found[name] = value
    for name in ("input_tokens_details", "output_tokens_details"):
        details = getattr(usage, name, None)
        parts = {part: getattr(details, part, None) for part in ("text_tokens", "image_tokens")}
        counted = {part: value for part, value in parts.items() if type(value) is int}
        if counted:
            found[name] = counted
    return found


def _retry_after(response: Any) -> float | None:
    """Seconds to wait, from retry-after-ms or Retry-After (seconds or an HTTP date)."""
    headers = response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            seconds = float(headers.get(name, "")) / scale
        except ValueError:
            continue
        if math.isfinite(seconds):
            return max(0.0, seconds)
    value = headers.get("retry-after", "").strip()
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())
