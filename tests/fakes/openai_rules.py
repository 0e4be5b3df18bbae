"""What the fake OpenAI server accepts and makes: the per-model rules of the images API
(from /work/shared/fixtures/openai/images-openapi.yaml) and the images and token counts it
answers with. The server module does the HTTP; this one has no I/O.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image


class ApiError(Exception):
    """An error the fake answers with, in the spec's Error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type, "param": param, "code": code}}
        self.headers = headers or {}


@dataclass(frozen=True)
class ModelRules:
    """One image model's request rules."""

    name: str
    sizes: tuple[str, ...]
    default_size: str
    max_prompt: int
    max_n: int
    qualities: tuple[str, ...]
    gpt: bool  # a GPT image model: b64 only, output_format, background, usage...
    edits: bool
    style: bool = False


_DALLE2 = ModelRules(
    "dall-e-2",
    ("256x256", "512x512", "1024x1024"),
    "1024x1024",
    1000,
    10,
    ("standard", "auto"),
    gpt=False,
    edits=True,
)
_DALLE3 = ModelRules(
    "dall-e-3",
    ("1024x1024", "1792x1024", "1024x1792"),
    "1024x1024",
    4000,
    1,
    ("standard", "hd", "auto"),
    gpt=False,
    edits=False,
    style=True,
)
_GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
_GPT_QUALITIES = ("low", "medium", "high", "auto")

GENERATION_FIELDS = frozenset(
    {
        "prompt",
        "model",
        "n",
        "quality",
        "response_format",
        "output_format",
        "output_compression",
        "stream",
        "partial_images",
        "size",
        "moderation",
        "background",
        "style",
        "user",
    }
)
EDIT_FIELDS = frozenset(
    {
        "image",
        "image[]",
        "prompt",
        "mask",
        "background",
        "model",
        "n",
        "size",
        "response_format",
        "output_format",
        "output_compression",
        "user",
        "input_fidelity",
        "stream",
        "partial_images",
        "quality",
    }
)
_GPT_ONLY = ("output_format", "output_compression", "background", "moderation", "input_fidelity")


def rules_for(model: str, *, edit: bool) -> ModelRules:
    """The rules of a model, or the 400 the real API gives for one it does not know."""
    if model.startswith("gpt-image") or model == "chatgpt-image-latest":
        rules = ModelRules(
            model, _GPT_SIZES, "auto", 32000, 10, _GPT_QUALITIES, gpt=True, edits=True
        )
    elif model in ("dall-e-2", "dall-e-3"):
        rules = _DALLE2 if model == "dall-e-2" else _DALLE3
    else:
        raise ApiError(400, f"Invalid value: '{model}'. Unknown image model.", param="model")
    if edit and not rules.edits:
        raise ApiError(
            400,
            f"Invalid value: '{model}'. Value must be 'dall-e-2' or a GPT image model.",
            param="model",
            code="invalid_value",
        )
    return rules


def check_image_fields(rules: ModelRules, body: dict[str, Any], allowed: frozenset[str]) -> None:
    """Refuse what the real API refuses for this model, with its kind of message."""
    for name in body:
        if name not in allowed:
            raise ApiError(400, f"Unrecognized request argument supplied: {name}", param=name)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise ApiError(400, "Missing required parameter: 'prompt'.", param="prompt")
    if len(prompt) > rules.max_prompt:
        raise ApiError(
            400,
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{rules.max_prompt}, but got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 10:
        raise ApiError(400, f"Invalid 'n': {n!r}; must be between 1 and 10.", param="n")
    if n > rules.max_n:
        raise ApiError(400, "You must provide n=1 for this model.", param="n")
    _choice(body, "size", rules.sizes)
    _choice(body, "quality", rules.qualities)
    if body.get("stream"):
        raise ApiError(400, "This fake does not stream.", param="stream")
    for name in _GPT_ONLY:
        if name in body and not rules.gpt:
            raise ApiError(
                400,
                f"Unknown parameter: '{name}' is only supported for GPT image models.",
                param=name,
            )
    if "style" in body and not rules.style:
        raise ApiError(400, f"Unknown parameter: 'style' is not supported by {rules.name}.")
    _choice(body, "style", ("vivid", "natural"))
    if "response_format" in body and rules.gpt:
        raise ApiError(
            400,
            "Unknown parameter: 'response_format' is not supported for GPT image models.",
            param="response_format",
        )
    _choice(body, "response_format", ("url", "b64_json"))
    _choice(body, "output_format", ("png", "jpeg", "webp"))
    _choice(body, "background", ("transparent", "opaque", "auto"))
    _choice(body, "moderation", ("low", "auto"))
    fmt = body.get("output_format", "png")
    if body.get("background") == "transparent" and fmt == "jpeg":
        raise ApiError(400, "Transparent backgrounds need output_format png or webp.")
    if "output_compression" in body:
        level = body["output_compression"]
        if not isinstance(level, int) or not 0 <= level <= 100:
            raise ApiError(400, "output_compression must be 0-100.", param="output_compression")
        if fmt == "png" and level != 100:
            raise ApiError(
                400,
                "output_compression is only supported for jpeg and webp.",
                param="output_compression",
            )


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> None:
    if name in body and body[name] is not None and body[name] not in allowed:
        choices = ", ".join(f"'{a}'" for a in allowed)
        raise ApiError(
            400,
            f"Invalid value: '{body[name]}'. Supported values are: {choices}.",
            param=name,
            code="invalid_value",
        )


def actual_size(rules: ModelRules, body: dict[str, Any]) -> tuple[int, int]:
    """The (width, height) the request asks for, `auto` resolved to a square."""
    size = body.get("size") or rules.default_size
    if size == "auto":
        size = "1024x1024"
    width, height = (int(side) for side in size.split("x"))
    return width, height


def actual_quality(rules: ModelRules, body: dict[str, Any]) -> str:
    """The quality used: `auto` becomes `standard` for DALL-E and `medium` for GPT models."""
    quality = body.get("quality") or "auto"
    if quality == "auto":
        return "medium" if rules.gpt else "standard"
    return str(quality)


def make_image(seed_text: str, size: tuple[int, int], fmt: str) -> bytes:
    """A solid-colour image whose colour follows from seed_text, encoded as fmt."""
    colour = colour_for(seed_text)
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    image.save(out, format={"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt])
    return out.getvalue()


def colour_for(seed_text: str) -> tuple[int, int, int]:
    """The colour the fake paints for a prompt (and image index)."""
    digest = hashlib.sha256(seed_text.encode()).digest()
    return digest[0], digest[1], digest[2]


def describe_image(data: bytes) -> str:
    """What the fake 'sees' in an image: its size and its dominant colour."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        colour = max(rgb.getcolors(rgb.width * rgb.height) or [(0, (0, 0, 0))])[1]
        return f"a {image.width}x{image.height} image, mostly #{bytes(colour).hex()}"


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image; raises when Pillow cannot read it."""
    with Image.open(io.BytesIO(data)) as image:
        return image.width, image.height


def image_usage(prompt: str, quality: str, size: tuple[int, int], n: int, inputs: int) -> Any:
    """Token usage in the spec's ImageGenUsage shape (figures shaped like the real ones)."""
    square = size[0] == size[1]
    per_image = {"low": 272 if square else 408, "medium": 1056 if square else 1584}.get(
        quality, 4160 if square else 6240
    )
    text_tokens = max(1, len(prompt) // 4)
    image_tokens = 323 * inputs
    output = per_image * n
    return {
        "input_tokens": text_tokens + image_tokens,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
        "output_tokens": output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
        "total_tokens": text_tokens + image_tokens + output,
    }


def count_tokens(text: str) -> int:
    """A rough token count (four characters a token), enough for usage figures."""
    return max(1, len(text) // 4)
