"""Images from an AUTOMATIC1111 or Forge web UI started with `--api`.

One request is one POST to `/sdapi/v1/txt2img` (or `img2img` with an input image). Each
configured model name is a checkpoint title the server knows; it goes into
`override_settings.sd_model_checkpoint` so every request says which checkpoint it wants,
whatever the web UI has loaded. Model versions are whatever the deployer listed (checkpoint
hashes, say); the result reports the hash the server says it really used. A configured API
key of the form `user:password` is sent as basic auth (the web UI's `--api-auth`), any other
key as a bearer token (for a proxy in front of it).

Provider-specific parameters (`ImageRequest.params`):
- `scheduler` (str): the noise schedule, e.g. "Karras" (web UI 1.9 and later).
- `clip_skip` (int, 1-12): sent as the `CLIP_stop_at_last_layers` setting.
- `restore_faces` (bool).
- `hires_fix` (bool or number): a second, upscaled pass (txt2img only); a number in (1, 4]
  is the upscale factor, `true` means 2. The images come back that much larger.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import httpx

from promptcanvas.adapters.providers.selfhosted import (
    build_client,
    error_body,
    image_models,
    json_body,
    media_type,
    probe,
    raise_for_status,
    send,
    shorten,
    where,
)
from promptcanvas.ports.providers.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageModel,
    ImageRequest,
    ImageResult,
    ModelInfo,
    Progress,
)
from promptcanvas.ports.providers.errors import InvalidRequest, Unavailable
from promptcanvas.settings import ProviderConfig

PARAMS = ("scheduler", "clip_skip", "restore_faces", "hires_fix")
MAX_SEED = 2**32 - 1  # the web UI seeds numpy too, which takes 32 bits
_SHARED_INFO = ("sd_model_name", "sd_model_hash", "sampler_name", "cfg_scale", "steps")


class SdWebUIProvider(ImageModel):
    """Text to image and image to image on one A1111/Forge server."""

    def __init__(
        self, config: ProviderConfig, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.provider = config.name
        self._config = config
        self._client = build_client(config, transport)
        caps = ImageCapabilities(
            min_side=64,
            max_side=2048,
            side_multiple=8,
            image_input=True,
            max_n=8,
            deterministic=bool(config.deterministic),
            params=PARAMS,
        )
        host = where(config)
        self._models = image_models(config, caps, lambda name: f"checkpoint {name} on {host}")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def health(self, timeout: float) -> str | None:
        """Whether the server answers a cheap GET in time."""
        return probe(self._client, "/sdapi/v1/sd-models", timeout)

    def models(self) -> list[ModelInfo]:
        """The configured checkpoints."""
        return list(self._models)

    def validate_image(self, request: ImageRequest) -> None:
        """The shared checks, then seed range, strength and parameter values."""
        super().validate_image(request)
        if request.seed is not None and not 0 <= request.seed <= MAX_SEED:
            raise InvalidRequest(f"seed must be between 0 and {MAX_SEED}")
        if request.strength is not None and not 0.0 <= request.strength <= 1.0:
            raise InvalidRequest("strength must be between 0 and 1")
        if request.steps is not None and not 1 <= request.steps <= 150:
            raise InvalidRequest("steps must be between 1 and 150")
        if request.cfg_scale is not None and not 1.0 <= request.cfg_scale <= 30.0:
            raise InvalidRequest("cfg_scale must be between 1 and 30")
        _check_params(request)

    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        """One txt2img or img2img call; the images come back with the seeds really used."""
        self.validate_image(request)
        version = self.resolve_version(self.model(request.model, "image"), request.version)
        img2img = request.init_image is not None
        response = send(
            self._config,
            self._client,
            "POST",
            "/sdapi/v1/img2img" if img2img else "/sdapi/v1/txt2img",
            json=_payload(request),
        )
        if response.status_code >= 400:
            detail = _detail(error_body(response))
            if response.status_code == 404 and detail in ("", "Not Found"):
                raise Unavailable(f"{where(self._config)} has no web UI API; start it with --api")
            if response.status_code == 404:  # "Sampler not found", "Model not found"
                raise InvalidRequest(f"{where(self._config)} refused the request: {detail}")
            raise_for_status(self._config, response, detail)
        images, info = self._parse(json_body(self._config, response), request.n)
        if progress is not None:
            progress(1.0)
        return ImageResult(
            images=images,
            model_version=_text(info.get("sd_model_hash")) or version,
        )

    def _parse(self, body: Any, n: int) -> tuple[tuple[GeneratedImage, ...], dict[str, Any]]:
        if not isinstance(body, dict) or not isinstance(body.get("images"), list):
            raise Unavailable(f"{where(self._config)} answered without an images list")
        info = _info(body.get("info"))
        # With a batch the web UI puts a grid first; `index_of_first_image` says so.
        first = info.get("index_of_first_image")
        first = first if isinstance(first, int) and first >= 0 else 0
        encoded = body["images"][first : first + n]
        if len(encoded) < n:
            raise Unavailable(
                f"{where(self._config)} returned {len(encoded)} image(s) for a batch of {n}"
            )
        seeds = _list(info.get("all_seeds"))
        subseeds = _list(info.get("all_subseeds"))
        infotexts = _list(info.get("infotexts"))
        shared = {key: info[key] for key in _SHARED_INFO if _plain(info.get(key))}
        images = []
        for index, item in enumerate(encoded):
            data = self._decode(item)
            extra = dict(shared)
            if index < len(subseeds) and isinstance(subseeds[index], int):
                extra["subseed"] = subseeds[index]
            if first + index < len(infotexts) and isinstance(infotexts[first + index], str):
                extra["infotext"] = infotexts[first + index]
            seed = seeds[index] if index < len(seeds) else None
            images.append(
                GeneratedImage(
                    data=data,
                    media_type=media_type(data) or "application/octet-stream",
                    seed=seed if isinstance(seed, int) else None,
                    info=extra,
                )
            )
        return tuple(images), info

    def _decode(self, item: Any) -> bytes:
        if isinstance(item, str) and item.startswith("data:"):
            item = item.partition(",")[2]
        try:
            data = base64.b64decode(item, validate=True) if isinstance(item, str) else b""
        except (binascii.Error, ValueError):
            data = b""
        if media_type(data) is None:
            raise Unavailable(f"{where(self._config)} returned an image that is not PNG/JPEG/WebP")
        return data


def _payload(request: ImageRequest) -> dict[str, Any]:
    overrides: dict[str, Any] = {"sd_model_checkpoint": request.model}
    payload: dict[str, Any] = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "seed": -1 if request.seed is None else request.seed,
        "width": request.width,
        "height": request.height,
        "batch_size": request.n,
        "n_iter": 1,
        "override_settings": overrides,
        "override_settings_restore_afterwards": True,
        "send_images": True,
        "save_images": False,
    }
    if request.steps is not None:
        payload["steps"] = request.steps
    if request.cfg_scale is not None:
        payload["cfg_scale"] = request.cfg_scale
    if request.sampler is not None:
        payload["sampler_name"] = request.sampler
    if request.init_image is not None:
        payload["init_images"] = [base64.b64encode(request.init_image).decode("ascii")]
        payload["denoising_strength"] = 0.75 if request.strength is None else request.strength
    params = request.params
    if "scheduler" in params:
        payload["scheduler"] = params["scheduler"]
    if "clip_skip" in params:
        overrides["CLIP_stop_at_last_layers"] = params["clip_skip"]
    if "restore_faces" in params:
        payload["restore_faces"] = params["restore_faces"]
    hires = params.get("hires_fix", False)
    if hires is not False:
        payload["enable_hr"] = True
        payload["hr_scale"] = 2.0 if hires is True else float(hires)
    return payload


def _check_params(request: ImageRequest) -> None:
    params = request.params
    if "scheduler" in params and not (
        isinstance(params["scheduler"], str) and params["scheduler"].strip()
    ):
        raise InvalidRequest("scheduler must be a scheduler name such as 'Karras'")
    clip_skip = params.get("clip_skip", 1)
    if isinstance(clip_skip, bool) or not isinstance(clip_skip, int) or not 1 <= clip_skip <= 12:
        raise InvalidRequest("clip_skip must be a whole number from 1 to 12")
    if not isinstance(params.get("restore_faces", False), bool):
        raise InvalidRequest("restore_faces must be true or false")
    hires = params.get("hires_fix", False)
    if not isinstance(hires, bool) and not (isinstance(hires, int | float) and 1 < hires <= 4):
        raise InvalidRequest("hires_fix must be true, false or an upscale factor above 1, up to 4")
    if hires is not False and request.init_image is not None:
        raise InvalidRequest("hires_fix applies to text-to-image only")


def _info(raw: Any) -> dict[str, Any]:
    """The `info` field: a JSON document inside a string (a dict on some forks)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _detail(body: Any) -> str:
    """The server's reason from FastAPI's `detail` (a string or a list of field errors) or
    the web UI's own `{error, detail, errors}` shape."""
    if not isinstance(body, dict):
        return ""
    detail = body.get("detail")
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                msg = str(item.get("msg", "invalid"))
                parts.append(f"{loc}: {msg}" if loc else msg)
        return shorten("; ".join(parts))
    for value in (detail, body.get("errors"), body.get("error")):
        if value:
            return shorten(str(value))
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
