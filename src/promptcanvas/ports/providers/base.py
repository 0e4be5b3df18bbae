"""Model ports: what PromptCanvas asks of any image, text, vision or video provider.

Contract shared by every port:
- An adapter is built from one `ProviderConfig` and is named by it (`provider`); the same
  adapter class may be configured several times under different names.
- It lists the models it serves (`models()`), each with its versions and capabilities. A model
  version is whatever the provider calls one (a release, a checkpoint hash); `None` means the
  provider does not version that model.
- `validate_*` checks a request against the model's capabilities *before* anything is queued
  or sent, raising `InvalidRequest` with a message a user can act on. It performs no I/O.
- `generate_*` / `complete` / `describe` perform exactly one attempt: they never retry, never
  sleep for rate limits and never fall back; the job runner does that once, for all adapters.
  They raise only the errors in `errors.py`. They are called from worker threads, so an
  adapter must be safe to use from several threads at once.
- Requests and results are frozen dataclasses in our own terms; vendor JSON never leaves the
  adapter. Results report what was really used (the seed a server picked, a revised prompt).
- `progress`, when given, may be called with a fraction in [0, 1] from the calling thread.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from promptcanvas.ports.providers.errors import InvalidRequest

Progress = Callable[[float], None]


@dataclass(frozen=True)
class ImageCapabilities:
    """What an image model accepts."""

    sizes: tuple[tuple[int, int], ...] = ()  # allowed (width, height); empty = any in bounds
    min_side: int = 64
    max_side: int = 2048
    side_multiple: int = 8
    max_prompt_chars: int = 4000
    seed: bool = True
    negative_prompt: bool = True
    image_input: bool = False
    max_n: int = 4
    deterministic: bool = False  # same request + seed always gives the same bytes
    params: tuple[str, ...] = ()  # provider-specific parameter names it understands


@dataclass(frozen=True)
class ModelInfo:
    """One model a provider serves."""

    name: str
    kind: str  # "image" | "text" | "vision" | "video"
    versions: tuple[str, ...] = ()
    default_version: str | None = None
    image: ImageCapabilities | None = None
    max_prompt_chars: int = 32_000
    description: str = ""


@dataclass(frozen=True)
class ImageRequest:
    """Text to image, or image to image when `init_image` is set."""

    model: str
    version: str | None
    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    seed: int | None = None
    n: int = 1
    steps: int | None = None
    cfg_scale: float | None = None
    sampler: str | None = None
    init_image: bytes | None = None
    strength: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratedImage:
    """One output image as bytes, with what the provider reports about it."""

    data: bytes
    media_type: str
    seed: int | None = None
    revised_prompt: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageResult:
    """All images of one request, plus usage the provider reported (tokens, etc.)."""

    images: tuple[GeneratedImage, ...]
    model_version: str | None = None
    usage: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class TextRequest:
    """A chat completion."""

    model: str
    version: str | None
    messages: tuple[Message, ...]
    max_tokens: int = 512
    temperature: float = 0.7
    seed: int | None = None


@dataclass(frozen=True)
class TextResult:
    """The model's answer."""

    text: str
    usage: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VisionRequest:
    """Ask about an image."""

    model: str
    version: str | None
    image: bytes
    media_type: str
    question: str
    max_tokens: int = 512


@dataclass(frozen=True)
class VideoRequest:
    """Text to a short clip."""

    model: str
    version: str | None
    prompt: str
    negative_prompt: str = ""
    duration_seconds: float = 10.0
    width: int = 640
    height: int = 360
    fps: int = 24
    seed: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoResult:
    """An encoded clip."""

    data: bytes
    media_type: str
    duration_seconds: float
    width: int
    height: int
    seed: int | None = None


class ProviderBase(abc.ABC):
    """Identity and model listing shared by every port."""

    provider: str

    @abc.abstractmethod
    def models(self) -> list[ModelInfo]:
        """Every model this provider serves, with versions and capabilities."""

    def model(self, name: str, kind: str) -> ModelInfo:
        """The named model of this kind, or InvalidRequest naming the ones that exist."""
        found = [m for m in self.models() if m.kind == kind]
        for info in found:
            if info.name == name:
                return info
        names = ", ".join(m.name for m in found) or "none"
        raise InvalidRequest(
            f"provider {self.provider!r} has no {kind} model {name!r} (it has: {names})"
        )

    def health(self, timeout: float) -> str | None:
        """None when the provider answers within `timeout` seconds, else why it does not.

        One cheap request at most, never retried; offline providers are always healthy. Never
        raises: the reason is safe to show a user (no credentials, no URL userinfo).
        """
        del timeout
        return None

    def resolve_version(self, info: ModelInfo, version: str | None) -> str | None:
        """The version to use: the requested one if the model has it, else its default."""
        if version is None:
            return info.default_version or (info.versions[-1] if info.versions else None)
        if info.versions and version not in info.versions:
            raise InvalidRequest(
                f"model {info.name!r} has no version {version!r} "
                f"(it has: {', '.join(info.versions)})"
            )
        return version


class ImageModel(ProviderBase):
    """Text to image (and image to image where `capabilities.image_input`)."""

    def validate_image(self, request: ImageRequest) -> None:
        """Check the request against the model's capabilities; no I/O."""
        info = self.model(request.model, "image")
        self.resolve_version(info, request.version)
        check_image_request(info.image or ImageCapabilities(), request)

    @abc.abstractmethod
    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        """One attempt at the request; returns `request.n` images or raises a ProviderError."""


class TextModel(ProviderBase):
    """Chat completion."""

    @abc.abstractmethod
    def complete(self, request: TextRequest) -> TextResult:
        """One attempt at a completion."""


class VisionModel(ProviderBase):
    """Image to text."""

    @abc.abstractmethod
    def describe(self, request: VisionRequest) -> TextResult:
        """One attempt at answering a question about an image."""


class VideoModel(ProviderBase):
    """Text to clip."""

    @abc.abstractmethod
    def generate_video(
        self, request: VideoRequest, progress: Progress | None = None
    ) -> VideoResult:
        """One attempt at rendering a clip."""


def check_image_request(caps: ImageCapabilities, request: ImageRequest) -> None:
    """The capability checks every image model shares."""
    if not request.prompt.strip():
        raise InvalidRequest("the prompt is empty")
    if len(request.prompt) > caps.max_prompt_chars:
        raise InvalidRequest(
            f"the prompt is {len(request.prompt)} characters; "
            f"model {request.model!r} accepts at most {caps.max_prompt_chars}"
        )
    size = (request.width, request.height)
    if caps.sizes:
        if size not in caps.sizes:
            allowed = ", ".join(f"{w}x{h}" for w, h in caps.sizes)
            raise InvalidRequest(
                f"size {request.width}x{request.height} is not supported by "
                f"{request.model!r} (allowed: {allowed})"
            )
    else:
        for side in size:
            if not caps.min_side <= side <= caps.max_side or side % caps.side_multiple:
                raise InvalidRequest(
                    f"width and height must be between {caps.min_side} and {caps.max_side} "
                    f"and multiples of {caps.side_multiple}"
                )
    if not 1 <= request.n <= caps.max_n:
        raise InvalidRequest(f"n must be between 1 and {caps.max_n} for {request.model!r}")
    if request.negative_prompt and not caps.negative_prompt:
        raise InvalidRequest(f"{request.model!r} does not take a negative prompt")
    if request.init_image is not None and not caps.image_input:
        raise InvalidRequest(f"{request.model!r} does not take an input image")
    unknown = sorted(set(request.params) - set(caps.params))
    if unknown:
        known = ", ".join(caps.params) or "none"
        raise InvalidRequest(
            f"unknown parameter(s) for {request.model!r}: {', '.join(unknown)} (known: {known})"
        )
