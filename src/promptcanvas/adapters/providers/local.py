"""The offline `local` provider: a procedural renderer, a template prompt writer, a pixel describer.

Nothing here is a neural network and nothing leaves the machine. It exists so that PromptCanvas
works (and can be tested end to end) with no provider configured: pictures really follow the
prompt's words, but as simple drawn shapes, never as a diffusion model would paint them.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from promptcanvas.adapters.providers import looks, sketch, writer
from promptcanvas.adapters.providers.scene import plan, stable_hash
from promptcanvas.ports.providers import (
    GeneratedImage,
    ImageCapabilities,
    ImageModel,
    ImageRequest,
    ImageResult,
    InvalidRequest,
    ModelInfo,
    Progress,
    ProviderError,
    TextModel,
    TextRequest,
    TextResult,
    Unavailable,
    VisionModel,
    VisionRequest,
)
from promptcanvas.settings import ProviderConfig

MAX_SEED = 2**32 - 1
DEFAULT_STRENGTH = 0.6
MAX_INPUT_PIXELS = 40_000_000  # an input image larger than this is refused, not decoded
IMAGE_MODEL, TEXT_MODEL, VISION_MODEL = "sketch", "prompt-writer", "describe"

SKETCH = ModelInfo(
    name=IMAGE_MODEL,
    kind="image",
    versions=sketch.VERSIONS,
    default_version="2",
    image=ImageCapabilities(
        max_n=8, image_input=True, deterministic=True, params=("style",), max_prompt_chars=4000
    ),
    description=(
        "Offline procedural renderer, not a diffusion model: it draws the prompt's words "
        "(Korean or English) as simple shapes, colours, time of day and art style. Version 1 is "
        "flat and poster-like, version 2 soft-lit and textured. The same prompt, seed, version "
        f"and size always give the same PNG. Param `style`: one of {', '.join(looks.STYLES)}."
    ),
)
PROMPT_WRITER = ModelInfo(
    name=TEXT_MODEL,
    kind="text",
    versions=("1",),
    default_version="1",
    max_prompt_chars=4000,
    description=(
        "Offline template prompt writer, not a language model: turns a concept in Korean or "
        "English into an English image prompt using a fixed visual vocabulary. Deterministic "
        "for the same input and seed; temperature is ignored."
    ),
)
DESCRIBER = ModelInfo(
    name=VISION_MODEL,
    kind="vision",
    versions=("1",),
    default_version="1",
    description=(
        "Offline pixel statistics, not a vision model: reports size, orientation, dominant "
        "colours, brightness and contrast. It does not recognise objects, people or text."
    ),
)


class LocalProvider(ImageModel, TextModel, VisionModel):
    """Image, text and vision models that run in-process, with no network and no weights."""

    def __init__(self, config: ProviderConfig) -> None:
        self.provider = config.name

    def models(self) -> list[ModelInfo]:
        """The sketch renderer, the prompt writer and the describer."""
        return [SKETCH, PROMPT_WRITER, DESCRIBER]

    def validate_image(self, request: ImageRequest) -> None:
        """The shared checks, then seed, strength, unused knobs, `style` and the input image."""
        super().validate_image(request)
        if request.seed is not None and not 0 <= request.seed <= MAX_SEED:
            raise InvalidRequest(f"seed must be between 0 and {MAX_SEED}")
        if request.strength is not None:
            if request.init_image is None:
                raise InvalidRequest("strength only applies with an input image")
            if not 0.0 <= request.strength <= 1.0:
                raise InvalidRequest("strength must be between 0 and 1")
        unused = [
            name
            for name, value in (
                ("steps", request.steps),
                ("cfg_scale", request.cfg_scale),
                ("sampler", request.sampler),
            )
            if value is not None
        ]
        if unused:
            raise InvalidRequest(
                f"{request.model!r} is a procedural renderer and has no {', '.join(unused)}; "
                "leave them empty"
            )
        style = request.params.get("style")
        if "style" in request.params and style not in looks.STYLES:
            raise InvalidRequest(f"style must be one of: {', '.join(looks.STYLES)}")
        if request.init_image is not None:
            _open(request.init_image).close()

    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        """Render `request.n` pictures; image i uses seed + i."""
        self.validate_image(request)
        version = self.resolve_version(self.model(request.model, "image"), request.version)
        seed = request.seed if request.seed is not None else stable_hash(request.prompt) % 2**32
        style = request.params.get("style")
        scene = plan(request.prompt, request.negative_prompt, style)
        strength = DEFAULT_STRENGTH if request.strength is None else request.strength
        images = []
        try:
            init = _decoded(request.init_image) if request.init_image is not None else None
            for i in range(request.n):
                used = (seed + i) % (MAX_SEED + 1)

                def step(fraction: float, i: int = i) -> None:
                    if progress is not None:
                        progress((i + fraction) / request.n)

                picture = sketch.render(
                    scene, request.width, request.height, used, version or "2", init, strength, step
                )
                images.append(
                    GeneratedImage(
                        data=sketch.encode_png(picture),
                        media_type="image/png",
                        seed=used,
                        info={"words": list(scene.words)},
                    )
                )
                step(1.0)
        except ProviderError:
            raise
        except Exception as exc:  # the port promises only ProviderErrors
            raise Unavailable(f"the local renderer failed: {exc}") from exc
        return ImageResult(images=tuple(images), model_version=version)

    def complete(self, request: TextRequest) -> TextResult:
        """An English image prompt written from the last user message."""
        info = self.model(request.model, "text")
        self.resolve_version(info, request.version)
        if request.max_tokens < 1:
            raise InvalidRequest("max_tokens must be at least 1")
        asked = [m.content for m in request.messages if m.role == "user" and m.content.strip()]
        if not asked:
            raise InvalidRequest("send at least one user message with the concept to write up")
        concept = asked[-1]
        if len(concept) > info.max_prompt_chars:
            raise InvalidRequest(f"the message is longer than {info.max_prompt_chars} characters")
        seed = request.seed if request.seed is not None else stable_hash(concept)
        words = writer.write(concept, seed).split()[: request.max_tokens]
        read = sum(len(m.content.split()) for m in request.messages)
        return TextResult(
            text=" ".join(words), usage={"input_tokens": read, "output_tokens": len(words)}
        )

    def describe(self, request: VisionRequest) -> TextResult:
        """What the pixels say: size, orientation, colours, brightness, contrast."""
        self.resolve_version(self.model(request.model, "vision"), request.version)
        if request.max_tokens < 1:
            raise InvalidRequest("max_tokens must be at least 1")
        with _open(request.image) as header:
            width, height = header.size
        small = _decoded(request.image, draft=(256, 256))
        small.thumbnail((128, 128))
        text = _describe(small, width, height)
        words = text.split()[: request.max_tokens]
        read = len(request.question.split())
        return TextResult(
            text=" ".join(words), usage={"input_tokens": read, "output_tokens": len(words)}
        )


def _open(data: bytes) -> Image.Image:
    """The image's header, read without decoding its pixels; InvalidRequest if unreadable."""
    if not data:
        raise InvalidRequest("the image is empty")
    # Pillow's bomb warning is caught when warnings are errors; otherwise the size check
    # below refuses the image anyway (warnings.catch_warnings is not thread-safe).
    unreadable = (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError)
    try:
        image = Image.open(io.BytesIO(data))
    except (*unreadable, Image.DecompressionBombWarning) as exc:
        raise InvalidRequest("the image could not be read (expected PNG, JPEG or WebP)") from exc
    width, height = image.size
    if width * height > MAX_INPUT_PIXELS:
        image.close()
        raise InvalidRequest(
            f"the image is {width}x{height}; at most {MAX_INPUT_PIXELS:,} pixels are accepted"
        )
    return image


def _decoded(data: bytes, draft: tuple[int, int] | None = None) -> Image.Image:
    """The pixels as RGB (a JPEG at about `draft` size if given); InvalidRequest if broken."""
    with _open(data) as image:
        try:
            if draft is not None:
                image.draft("RGB", draft)
            return image.convert("RGB")
        except (OSError, ValueError) as exc:
            raise InvalidRequest("the image could not be decoded") from exc


# Hue bands in degrees, and the name of each.
_HUES = ((15, "red"), (40, "orange"), (70, "yellow"), (165, "green"), (195, "teal"),
         (255, "blue"), (290, "purple"), (345, "pink"), (361, "red"))  # fmt: skip


def colour_names(image: Image.Image) -> list[tuple[str, float]]:
    """Named colours of an RGB image with their share of its pixels, largest first."""
    hsv = np.asarray(image.convert("HSV"), dtype=np.float32).reshape(-1, 3)
    hue, sat, val = hsv[:, 0] * 360 / 255, hsv[:, 1], hsv[:, 2]
    names = np.full(hue.shape, "grey", dtype=object)
    low = 0
    for high, name in _HUES:
        names[(hue >= low) & (hue < high) & (sat >= 50)] = name
        low = high
    names[(names == "orange") & (val < 150)] = "brown"
    names[(names == "blue") & (val < 100)] = "navy blue"
    names[(sat < 50) & (val >= 200)] = "white"
    names[val < 45] = "black"
    found, counts = np.unique(names.astype(str), return_counts=True)
    total = float(counts.sum())
    ranked = sorted(zip(found.tolist(), counts.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
    return [(str(name), count / total) for name, count in ranked]


def _describe(small: Image.Image, width: int, height: int) -> str:
    """Sentences about an image from its pixels (a thumbnail) and its real size."""
    if width > height * 1.05:
        shape = "landscape"
    elif height > width * 1.05:
        shape = "portrait"
    else:
        shape = "square"
    colours = [(n, share) for n, share in colour_names(small) if share >= 0.08][:4]
    listed = ", ".join(f"{n} ({share:.0%})" for n, share in colours) or "no single colour"
    luma = np.asarray(small.convert("L"), dtype=np.float32)
    # Brightness is each pixel's strongest channel, so a vivid red counts as bright.
    value = np.asarray(small, dtype=np.float32).max(axis=2)
    mean, spread = float(value.mean()), float(luma.std())
    if mean < 70:
        light = "dark overall, like a night scene"
    elif mean < 120:
        light = "fairly dark overall, like dusk or a dim interior"
    elif mean < 175:
        light = "moderately bright overall"
    else:
        light = "bright overall, like daylight"
    contrast = "low" if spread < 30 else "moderate" if spread < 60 else "high"
    top, bottom = (
        float(luma[: luma.shape[0] // 3].mean()),
        float(luma[-luma.shape[0] // 3 :].mean()),
    )
    if top > bottom + 25:
        layout = " The top third is brighter than the bottom third."
    elif bottom > top + 25:
        layout = " The top third is darker than the bottom third."
    else:
        layout = ""
    return (
        f"A {width}x{height} {shape} image. Dominant colours: {listed}. It is {light} "
        f"(mean brightness {mean:.0f} of 255), with {contrast} contrast.{layout} This description "
        "comes from pixel statistics only; it does not recognise objects, people or text."
    )
