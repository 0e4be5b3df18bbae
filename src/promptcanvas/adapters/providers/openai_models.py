"""What OpenAI's models accept, from the published images API (no I/O here).

Three image families: DALL-E 2, DALL-E 3 and the GPT image models (`gpt-image-1`,
`gpt-image-1-mini`, any `gpt-image*` or `chatgpt-image*`). Sizes are the fixed ones each
family lists; `auto` has no (width, height) and is not offered. No OpenAI image model takes
a seed, a negative prompt, steps, a CFG scale, a sampler or a strength: a request that sets
one is refused rather than run without it, since the user set it on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from promptcanvas.ports.providers.base import (
    ImageCapabilities,
    ImageRequest,
    ModelInfo,
    check_image_request,
)
from promptcanvas.ports.providers.errors import InvalidRequest
from promptcanvas.settings import ModelConfig, ProviderConfig

# Served when the config lists no models: name -> kinds.
DEFAULT_MODELS = {
    "dall-e-2": ("image",),
    "dall-e-3": ("image",),
    "gpt-image-1": ("image",),
    "gpt-4o-mini": ("text", "vision"),
}
VISION_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
VISION_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImageFamily:
    """What one kind of OpenAI image model accepts, beyond ImageCapabilities."""

    caps: ImageCapabilities
    choices: Mapping[str, tuple[str, ...]]  # allowed values of the string params
    dalle: bool
    default_quality: str
    input_types: tuple[str, ...] = ()  # image types an edit takes
    max_input_bytes: int = 0
    not_in_edits: tuple[str, ...] = ()


DALLE2 = ImageFamily(
    ImageCapabilities(
        sizes=((256, 256), (512, 512), (1024, 1024)),
        max_prompt_chars=1000,
        seed=False,
        negative_prompt=False,
        image_input=True,
        max_n=10,
        params=("quality", "response_format"),
    ),
    {"quality": ("standard",), "response_format": ("url", "b64_json")},
    dalle=True,
    default_quality="standard",
    input_types=("image/png",),
    max_input_bytes=4 * 1024 * 1024,
)
DALLE3 = ImageFamily(
    ImageCapabilities(
        sizes=((1024, 1024), (1792, 1024), (1024, 1792)),
        max_prompt_chars=4000,
        seed=False,
        negative_prompt=False,
        max_n=1,
        params=("quality", "style", "response_format"),
    ),
    {
        "quality": ("standard", "hd"),
        "style": ("vivid", "natural"),
        "response_format": ("url", "b64_json"),
    },
    dalle=True,
    default_quality="standard",
)
GPT_IMAGE = ImageFamily(
    ImageCapabilities(
        sizes=((1024, 1024), (1536, 1024), (1024, 1536)),
        max_prompt_chars=32000,
        seed=False,
        negative_prompt=False,
        image_input=True,
        max_n=10,
        params=("quality", "background", "output_format", "output_compression", "moderation"),
    ),
    {
        "quality": ("low", "medium", "high", "auto"),
        "background": ("transparent", "opaque", "auto"),
        "output_format": ("png", "jpeg", "webp"),
        "moderation": ("low", "auto"),
    },
    dalle=False,
    default_quality="auto",
    input_types=("image/png", "image/jpeg", "image/webp"),
    max_input_bytes=50 * 1024 * 1024,
    not_in_edits=("moderation",),  # the multipart edit request has no moderation field
)


def family_for(name: str) -> ImageFamily | None:
    """The image family a model name belongs to, or None for a name we do not know."""
    if name == "dall-e-2":
        return DALLE2
    if name == "dall-e-3":
        return DALLE3
    if name.startswith(("gpt-image", "chatgpt-image")):
        return GPT_IMAGE
    return None


def model_infos(config: ProviderConfig) -> tuple[ModelInfo, ...]:
    """The configured models (or the defaults); ValueError for one OpenAI cannot serve."""
    entries: list[tuple[str, str, ModelConfig]]
    if config.models:
        entries = [(name, model.kind, model) for name, model in config.models.items()]
    else:
        entries = [
            (name, kind, ModelConfig()) for name, kinds in DEFAULT_MODELS.items() for kind in kinds
        ]
    infos = []
    for name, kind, model in entries:
        if kind == "video":
            raise ValueError(f"provider {config.name!r}: OpenAI has no video model {name!r}")
        family = family_for(name) if kind == "image" else None
        if kind == "image" and family is None:
            raise ValueError(
                f"provider {config.name!r}: unknown OpenAI image model {name!r} "
                "(expected dall-e-2, dall-e-3 or a gpt-image model)"
            )
        infos.append(
            ModelInfo(
                name=name,
                kind=kind,
                versions=tuple(model.versions),
                default_version=model.default_version,
                image=family.caps if family else None,
                max_prompt_chars=family.caps.max_prompt_chars if family else 32_000,
            )
        )
    return tuple(infos)


def check_openai_image(family: ImageFamily, request: ImageRequest) -> None:
    """The shared capability checks, then the rules OpenAI adds; raises InvalidRequest."""
    if family.caps.max_n == 1 and request.n != 1:
        raise InvalidRequest(f"{request.model!r} makes one image per request (n must be 1)")
    check_image_request(family.caps, request)
    unsupported = {
        "a seed": request.seed,
        "steps": request.steps,
        "a CFG scale": request.cfg_scale,
        "a sampler": request.sampler,
        "a strength": request.strength,
    }
    for what, value in unsupported.items():
        if value is not None:
            raise InvalidRequest(f"{request.model!r} does not take {what}; leave it empty")
    params = request.params
    for name, allowed in family.choices.items():
        if name in params and params[name] not in allowed:
            raise InvalidRequest(
                f"{name} must be one of {', '.join(allowed)} for {request.model!r}"
            )
    output_format = params.get("output_format", "png")
    if "output_compression" in params:
        level = params["output_compression"]
        if type(level) is not int or not 0 <= level <= 100:
            raise InvalidRequest("output_compression must be a whole number from 0 to 100")
        if output_format == "png":
            raise InvalidRequest("output_compression needs output_format jpeg or webp")
    if params.get("background") == "transparent" and output_format == "jpeg":
        raise InvalidRequest("a transparent background needs output_format png or webp")
    if request.init_image is not None:
        _check_input_image(family, request)


def _check_input_image(family: ImageFamily, request: ImageRequest) -> None:
    data = request.init_image or b""
    if sniff(data) not in family.input_types:
        kinds = ", ".join(t.removeprefix("image/").upper() for t in family.input_types)
        raise InvalidRequest(f"{request.model!r} edits {kinds} images only")
    if len(data) > family.max_input_bytes:
        limit = family.max_input_bytes // (1024 * 1024)
        raise InvalidRequest(f"{request.model!r} edits images of at most {limit} MB")
    for name in family.not_in_edits:
        if name in request.params:
            raise InvalidRequest(f"{name} does not apply to image edits")


def sniff(data: bytes) -> str | None:
    """The image type the bytes start with (PNG, JPEG, WebP or GIF), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None
