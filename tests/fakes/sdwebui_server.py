"""A stand-in for the AUTOMATIC1111/Forge web UI API (`--api`), for integration tests.

It follows the published shapes: `POST /sdapi/v1/txt2img` and `/sdapi/v1/img2img` take the
processing fields (types checked by pydantic, so a bad type is a 422 with FastAPI's
`detail` list), pick a random 32-bit seed for `-1`, give a batch consecutive seeds, put a
grid first when the batch has more than one image (`index_of_first_image: 1`, the web UI's
default), and answer `{"images": [base64 PNG...], "parameters": {...}, "info": "<JSON>"}`.
Unknown samplers and checkpoints are 404s with the web UI's error shape
(`{error, detail, body, errors}`). `GET /sdapi/v1/sd-models` and `/samplers` list what it
knows. Images are solid colours from the prompt and seed, with the infotext in a PNG
`parameters` chunk, so the same request and seed give the same bytes.

Stricter than the real server in one way: unknown request fields are refused (422), so a
typo in an adapter fails a test instead of being silently ignored.

`with running_fake_sdwebui() as url: ...` serves it from a thread; `python -m
tests.fakes.sdwebui_server --port N` from a subprocess. Faults: see `fault_injection`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from PIL import Image, PngImagePlugin
from pydantic import BaseModel, ConfigDict

from tests.fakes.fault_injection import Faults, install
from tests.fakes.serve import running_app, serve_forever

CHECKPOINTS = (
    "v1-5-pruned-emaonly.safetensors [6ce0161689]",
    "sd_xl_base_1.0.safetensors [31e35c80fc]",
)
SAMPLERS = ("Euler a", "Euler", "DPM++ 2M", "DPM++ 2M Karras", "DDIM")


class Txt2Img(BaseModel):
    """The fields of the web UI's txt2img request that this fake understands."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = ""
    negative_prompt: str = ""
    styles: list[str] | None = None
    seed: int = -1
    subseed: int = -1
    subseed_strength: float = 0.0
    sampler_name: str | None = None
    scheduler: str | None = None
    batch_size: int = 1
    n_iter: int = 1
    steps: int = 50
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    restore_faces: bool | None = None
    tiling: bool | None = None
    denoising_strength: float | None = None
    enable_hr: bool = False
    hr_scale: float = 2.0
    override_settings: dict[str, Any] | None = None
    override_settings_restore_afterwards: bool = True
    send_images: bool = True
    save_images: bool = False


class Img2Img(Txt2Img):
    """img2img adds the input images (base64) and how far to move away from them."""

    init_images: list[str] | None = None
    denoising_strength: float | None = 0.75
    resize_mode: int = 0


def _error(status: int, message: str) -> dict[str, Any]:
    # The web UI's own exception handler answers every HTTPException in this shape.
    return {"error": "HTTPException", "detail": message, "body": "", "errors": message}


def _png(color: tuple[int, int, int], size: tuple[int, int], infotext: str) -> Image.Image:
    image = Image.new("RGB", size, color)
    image.info["parameters"] = infotext
    return image


def _encode(image: Image.Image) -> str:
    meta = PngImagePlugin.PngInfo()
    for key, value in image.info.items():
        if isinstance(value, str):
            meta.add_text(key, value)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=meta)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _color(*parts: Any) -> tuple[int, int, int]:
    digest = hashlib.sha256(json.dumps(parts).encode()).digest()
    return digest[0], digest[1], digest[2]


def _decode_init(encoded: str) -> Image.Image:
    if encoded.startswith("data:image/"):
        encoded = encoded.split(";")[1].split(",")[1]
    try:
        return Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")
    except (binascii.Error, ValueError, OSError):
        raise HTTPException(status_code=500, detail="Invalid encoded image") from None


def _run(req: Txt2Img, init: list[Image.Image] | None) -> dict[str, Any]:
    if req.sampler_name is not None and req.sampler_name not in SAMPLERS:
        raise HTTPException(status_code=404, detail="Sampler not found")
    checkpoint = (req.override_settings or {}).get("sd_model_checkpoint", CHECKPOINTS[0])
    if checkpoint not in CHECKPOINTS:
        raise HTTPException(status_code=404, detail="Model not found")
    seed = req.seed if req.seed != -1 else random.randrange(4294967294)
    total = req.batch_size * req.n_iter
    seeds = [seed + i for i in range(total)]
    subseeds = [(req.subseed if req.subseed != -1 else seed) + i for i in range(total)]
    name, _, bracket = checkpoint.partition(" [")
    model_name, model_hash = name.rsplit(".", 1)[0], bracket.rstrip("]")
    scale = req.hr_scale if req.enable_hr else 1.0
    size = (int(req.width * scale), int(req.height * scale))
    sampler = req.sampler_name or "Euler"
    clip_skip = int((req.override_settings or {}).get("CLIP_stop_at_last_layers", 1))
    images = []
    infotexts = []
    for index, one_seed in enumerate(seeds):
        infotext = (
            f"{req.prompt}\nNegative prompt: {req.negative_prompt}\nSteps: {req.steps}, "
            f"Sampler: {sampler}, CFG scale: {req.cfg_scale:g}, Seed: {one_seed}, "
            f"Size: {req.width}x{req.height}, Model hash: {model_hash}, Model: {model_name}"
        )
        if init:
            tint = _color(req.prompt, one_seed, req.denoising_strength)
            source = init[index % len(init)].resize(size)
            image = Image.blend(source, Image.new("RGB", size, tint), req.denoising_strength or 0)
            image.info["parameters"] = infotext
        else:
            image = _png(_color(req.prompt, req.negative_prompt, one_seed, sampler), size, infotext)
        images.append(image)
        infotexts.append(infotext)
    first = 0
    if total > 1:
        grid = Image.new("RGB", (size[0] * total, size[1]))
        for index, image in enumerate(images):
            grid.paste(image, (size[0] * index, 0))
        images.insert(0, grid)
        infotexts.insert(0, infotexts[0])
        first = 1
    info = {
        "prompt": req.prompt,
        "all_prompts": [req.prompt] * total,
        "negative_prompt": req.negative_prompt,
        "all_negative_prompts": [req.negative_prompt] * total,
        "seed": seed,
        "all_seeds": seeds,
        "subseed": subseeds[0],
        "all_subseeds": subseeds,
        "subseed_strength": req.subseed_strength,
        "width": req.width,
        "height": req.height,
        "sampler_name": sampler,
        "cfg_scale": req.cfg_scale,
        "steps": req.steps,
        "batch_size": req.batch_size,
        "restore_faces": bool(req.restore_faces),
        "face_restoration_model": "CodeFormer" if req.restore_faces else None,
        "sd_model_name": model_name,
        "sd_model_hash": model_hash,
        "sd_vae_name": None,
        "sd_vae_hash": None,
        "seed_resize_from_w": -1,
        "seed_resize_from_h": -1,
        "denoising_strength": req.denoising_strength,
        "extra_generation_params": {"Schedule type": req.scheduler} if req.scheduler else {},
        "index_of_first_image": first,
        "infotexts": infotexts,
        "styles": req.styles or [],
        "job_timestamp": time.strftime("%Y%m%d%H%M%S"),
        "clip_skip": clip_skip,
        "is_using_inpainting_conditioning": False,
        "version": "v1.10.1",
    }
    parameters = req.model_dump()
    if isinstance(req, Img2Img):
        parameters["init_images"] = None  # the web UI leaves them out unless asked
    return {
        "images": [_encode(image) for image in images] if req.send_images else [],
        "parameters": parameters,
        "info": json.dumps(info),
    }


def create_app(*, api_auth: tuple[str, str] | None = None, **faults: Any) -> FastAPI:
    """The fake web UI; `api_auth` demands basic auth like `--api-auth user:password`."""
    app = FastAPI(title="fake stable-diffusion-webui")
    install(app, Faults(**faults), _error)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(_error(exc.status_code, str(exc.detail)), exc.status_code)

    if api_auth is not None:
        expected = "Basic " + base64.b64encode(":".join(api_auth).encode()).decode()

        @app.middleware("http")
        async def check_auth(request: Request, call_next: Any) -> Any:
            if request.url.path.startswith("/sdapi/") and (
                request.headers.get("authorization") != expected
            ):
                return JSONResponse(
                    _error(401, "Incorrect username or password"),
                    401,
                    headers={"WWW-Authenticate": "Basic"},
                )
            return await call_next(request)

    @app.post("/sdapi/v1/txt2img")
    def txt2img(req: Txt2Img) -> dict[str, Any]:
        return _run(req, None)

    @app.post("/sdapi/v1/img2img")
    def img2img(req: Img2Img) -> dict[str, Any]:
        if req.init_images is None:
            raise HTTPException(status_code=404, detail="Init image not found")
        return _run(req, [_decode_init(item) for item in req.init_images])

    @app.get("/sdapi/v1/sd-models")
    def sd_models() -> list[dict[str, Any]]:
        return [
            {
                "title": title,
                "model_name": title.split(".")[0],
                "hash": title.partition("[")[2].rstrip("]"),
                "filename": f"/models/Stable-diffusion/{title.split(' ')[0]}",
                "config": None,
            }
            for title in CHECKPOINTS
        ]

    @app.get("/sdapi/v1/samplers")
    def samplers() -> list[dict[str, Any]]:
        return [{"name": name, "aliases": [], "options": {}} for name in SAMPLERS]

    return app


@contextmanager
def running_fake_sdwebui(**options: Any) -> Iterator[str]:
    """Serve a fresh fake from a background thread; yields its base URL."""
    with running_app(create_app(**options)) as url:
        yield url


if __name__ == "__main__":
    serve_forever(create_app(), "fake AUTOMATIC1111 web UI API")
