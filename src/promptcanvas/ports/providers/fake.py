"""A scripted in-memory image model: the test double for the ImageModel port."""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Iterable

from PIL import Image

from promptcanvas.ports.providers.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageModel,
    ImageRequest,
    ImageResult,
    ModelInfo,
    Progress,
)
from promptcanvas.ports.providers.errors import ProviderError


def solid_png(seed: int, width: int = 64, height: int = 64) -> bytes:
    """A small PNG whose colour follows the seed."""
    colour = ((seed * 97) % 256, (seed * 57) % 256, (seed * 23) % 256)
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


class FakeImageModel(ImageModel):
    """Answers from a script of errors (None = succeed), then succeeds; records every call."""

    def __init__(
        self,
        provider: str = "fake",
        *,
        script: Iterable[ProviderError | None] = (),
        latency: float = 0.0,
        deterministic: bool = False,
        versions: tuple[str, ...] = ("1", "2"),
    ) -> None:
        self.provider = provider
        self.script: deque[ProviderError | None] = deque(script)
        self.latency = latency
        self.deterministic = deterministic
        self.versions = versions
        self.calls: list[ImageRequest] = []
        self._lock = threading.Lock()

    def models(self) -> list[ModelInfo]:
        """One model, `toy`."""
        caps = ImageCapabilities(
            min_side=16, max_n=4, deterministic=self.deterministic, params=("style",)
        )
        return [ModelInfo("toy", "image", self.versions, self.versions[-1], caps)]

    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        """Sleep `latency`, then fail as scripted or return `n` solid PNGs."""
        with self._lock:
            self.calls.append(request)
            outcome = self.script.popleft() if self.script else None
        if self.latency:
            time.sleep(self.latency)
        if progress is not None:
            progress(1.0)
        if outcome is not None:
            raise outcome
        seed = request.seed or 0
        images = tuple(
            GeneratedImage(solid_png(seed + i, 32, 32), "image/png", seed=seed + i)
            for i in range(request.n)
        )
        return ImageResult(images, usage={"images": request.n})
