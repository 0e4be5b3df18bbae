"""The AUTOMATIC1111/Forge adapter over real HTTP against the fake web UI."""

from __future__ import annotations

import base64
import io
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from promptcanvas.adapters.providers.sdwebui import SdWebUIProvider
from promptcanvas.ports.providers import (
    ImageRequest,
    InvalidRequest,
    RateLimited,
    Timeout,
    Unavailable,
)
from promptcanvas.settings import ProviderConfig
from tests.fakes.sdwebui_server import CHECKPOINTS, running_fake_sdwebui

SD15 = CHECKPOINTS[0]  # "v1-5-pruned-emaonly.safetensors [6ce0161689]"
SDXL = CHECKPOINTS[1]


class Fake:
    """A running fake web UI and what it saw."""

    def __init__(self, url: str) -> None:
        self.url = url

    def faults(self, **changes: Any) -> None:
        httpx.post(f"{self.url}/_fake/config", json=changes).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = httpx.get(f"{self.url}/_fake/requests").json()
        return seen


class Tamper(httpx.BaseTransport):
    """Real HTTP, with the request or the response altered on the way (a bad proxy)."""

    def __init__(
        self,
        *,
        request: Callable[[httpx.Request], httpx.Request] | None = None,
        response: Callable[[httpx.Response], httpx.Response] | None = None,
    ) -> None:
        self._inner = httpx.HTTPTransport()
        self._request = request
        self._response = response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._request is not None:
            request = self._request(request)
        response = self._inner.handle_request(request)
        if self._response is None:
            return response
        response.read()
        return self._response(response)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def fake() -> Iterator[Fake]:
    with running_fake_sdwebui() as url:
        yield Fake(url)


def config(url: str, **overrides: Any) -> ProviderConfig:
    fields: dict[str, Any] = {
        "name": "studio-gpu",
        "adapter": "sdwebui",
        "base_url": url,
        "timeout_seconds": 10,
        "models": {SD15: {"versions": ["6ce0161689"]}, SDXL: {"versions": ["31e35c80fc"]}},
    }
    return ProviderConfig(**{**fields, **overrides})


@pytest.fixture
def make() -> Iterator[Callable[..., SdWebUIProvider]]:
    """Build adapters (closed after the test): make(url, transport=..., **config fields)."""
    built: list[SdWebUIProvider] = []

    def build(url: str, transport: httpx.BaseTransport | None = None, **overrides: Any) -> Any:
        built.append(SdWebUIProvider(config(url, **overrides), transport=transport))
        return built[-1]

    yield build
    for adapter in built:
        adapter.close()


@pytest.fixture
def provider(fake: Fake, make: Callable[..., SdWebUIProvider]) -> SdWebUIProvider:
    return make(fake.url)


def request(**fields: Any) -> ImageRequest:
    values: dict[str, Any] = {
        "model": SD15,
        "version": None,
        "prompt": "a red fox in the snow",
        "width": 64,
        "height": 64,
    }
    return ImageRequest(**{**values, **fields})


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_txt2img_returns_n_pngs_with_the_seeds_the_server_picked(
    fake: Fake, provider: SdWebUIProvider
) -> None:
    result = provider.generate_image(request(n=3, width=96, height=64))

    assert [r["json"]["seed"] for r in fake.requests()] == [-1]
    assert len(result.images) == 3
    seeds = [image.seed for image in result.images]
    assert all(isinstance(seed, int) and 0 <= seed < 2**32 for seed in seeds)
    assert seeds[1:] == [seeds[0] + 1, seeds[0] + 2]  # a batch takes consecutive seeds
    for image, seed in zip(result.images, seeds, strict=True):
        assert image.media_type == "image/png"
        decoded = decode(image.data)
        assert decoded.size == (96, 64)  # the batch grid the web UI puts first is skipped
        assert f"Seed: {seed}," in decoded.info["parameters"]
        assert f"Seed: {seed}," in image.info["infotext"]
    assert result.model_version == "6ce0161689"


def test_a_chosen_seed_is_sent_and_reported(fake: Fake, provider: SdWebUIProvider) -> None:
    result = provider.generate_image(request(seed=1234, n=2))

    assert fake.requests()[0]["json"]["seed"] == 1234
    assert [image.seed for image in result.images] == [1234, 1235]


def test_checkpoint_sampler_and_parameters_are_sent(fake: Fake, provider: SdWebUIProvider) -> None:
    result = provider.generate_image(
        request(
            model=SDXL,
            negative_prompt="blurry",
            steps=12,
            cfg_scale=5.5,
            sampler="DPM++ 2M",
            params={"clip_skip": 2, "scheduler": "Karras", "restore_faces": True},
        )
    )

    [sent] = fake.requests()
    assert sent["path"] == "/sdapi/v1/txt2img"
    body = sent["json"]
    assert body["override_settings"] == {
        "sd_model_checkpoint": SDXL,
        "CLIP_stop_at_last_layers": 2,
    }
    assert body["override_settings_restore_afterwards"] is True
    assert (body["negative_prompt"], body["steps"], body["cfg_scale"]) == ("blurry", 12, 5.5)
    assert (body["sampler_name"], body["scheduler"], body["restore_faces"]) == (
        "DPM++ 2M",
        "Karras",
        True,
    )
    assert result.model_version == "31e35c80fc"
    info = result.images[0].info
    assert (info["sd_model_name"], info["sampler_name"], info["steps"]) == (
        "sd_xl_base_1.0",
        "DPM++ 2M",
        12,
    )


def test_hires_fix_asks_for_the_upscaled_pass(fake: Fake, provider: SdWebUIProvider) -> None:
    result = provider.generate_image(request(params={"hires_fix": 1.5}))

    body = fake.requests()[0]["json"]
    assert (body["enable_hr"], body["hr_scale"]) == (True, 1.5)
    assert decode(result.images[0].data).size == (96, 96)


def test_img2img_sends_the_init_image_and_strength(fake: Fake, provider: SdWebUIProvider) -> None:
    init = png((10, 200, 10))

    result = provider.generate_image(request(init_image=init, strength=0.4, seed=7))

    [sent] = fake.requests()
    assert sent["path"] == "/sdapi/v1/img2img"
    assert [base64.b64decode(item) for item in sent["json"]["init_images"]] == [init]
    assert sent["json"]["denoising_strength"] == 0.4
    assert result.images[0].seed == 7
    # The fake blends the init image in, so a green input leaves a green-dominant result.
    red, green, blue = decode(result.images[0].data).convert("RGB").getpixel((0, 0))
    assert green > 100


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"width": 100}, "multiples of 8"),
        ({"n": 9}, "n must be between 1 and 8"),
        ({"prompt": "   "}, "empty"),
        ({"model": "nope.safetensors"}, "has no image model"),
        ({"version": "deadbeef"}, "no version"),
        ({"seed": -5}, "seed must be between"),
        ({"strength": 1.5, "init_image": b"x"}, "strength"),
        ({"params": {"tiling": True}}, "unknown parameter"),
        ({"params": {"clip_skip": 0}}, "clip_skip"),
        ({"params": {"restore_faces": "yes"}}, "restore_faces"),
        ({"params": {"hires_fix": 9}}, "hires_fix"),
        ({"params": {"hires_fix": True}, "init_image": b"x"}, "text-to-image only"),
    ],
)
def test_a_request_validation_refuses_sends_nothing(
    fake: Fake, provider: SdWebUIProvider, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        provider.generate_image(request(**fields))

    assert fake.requests() == []


def test_an_unknown_sampler_is_an_invalid_request(provider: SdWebUIProvider) -> None:
    with pytest.raises(InvalidRequest, match="Sampler not found"):
        provider.generate_image(request(sampler="Warp Drive"))


def test_a_422_from_the_server_is_an_invalid_request_with_its_detail(
    fake: Fake, make: Callable[..., SdWebUIProvider]
) -> None:
    def bad_steps(sent: httpx.Request) -> httpx.Request:
        body = {**json.loads(sent.content), "steps": "many"}
        headers = {k: v for k, v in sent.headers.items() if k.lower() != "content-length"}
        return httpx.Request(sent.method, sent.url, headers=headers, json=body)

    adapter = make(fake.url, transport=Tamper(request=bad_steps))

    with pytest.raises(InvalidRequest, match="steps: .*integer") as caught:
        adapter.generate_image(request())

    assert "HTTP 422" in caught.value.message
    assert not caught.value.retryable


def test_429_is_rate_limited_with_the_servers_retry_after(
    fake: Fake, provider: SdWebUIProvider
) -> None:
    fake.faults(rate_limit_rate=1.0, retry_after=7)

    with pytest.raises(RateLimited) as caught:
        provider.generate_image(request())

    assert caught.value.retry_after == 7.0


def test_500_is_unavailable_and_retryable(fake: Fake, provider: SdWebUIProvider) -> None:
    fake.faults(error_rate=1.0)

    with pytest.raises(Unavailable, match="HTTP 500.*injected failure") as caught:
        provider.generate_image(request())

    assert caught.value.retryable


def test_a_slow_server_is_a_timeout(fake: Fake, make: Callable[..., SdWebUIProvider]) -> None:
    fake.faults(delay_seconds=1.0)
    adapter = make(fake.url, timeout_seconds=0.3)

    with pytest.raises(Timeout):
        adapter.generate_image(request())


def test_a_body_that_is_not_json_is_unavailable(
    fake: Fake, make: Callable[..., SdWebUIProvider]
) -> None:
    def truncate(response: httpx.Response) -> httpx.Response:
        return httpx.Response(200, content=response.content[:40])

    adapter = make(fake.url, transport=Tamper(response=truncate))

    with pytest.raises(Unavailable, match="not JSON"):
        adapter.generate_image(request())


def test_a_server_without_the_api_says_to_start_it_with_api(
    fake: Fake, make: Callable[..., SdWebUIProvider]
) -> None:
    adapter = make(f"{fake.url}/not-the-webui")

    with pytest.raises(Unavailable, match="--api"):
        adapter.generate_image(request())


def test_an_unreachable_server_is_unavailable_without_leaking_credentials(
    make: Callable[..., SdWebUIProvider],
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = make(f"http://admin:hunter2@127.0.0.1:{port}")

    with pytest.raises(Unavailable) as caught:
        adapter.generate_image(request())

    assert "hunter2" not in caught.value.message
    assert f"127.0.0.1:{port}" in caught.value.message


def test_api_auth_credentials_come_from_the_configured_key(
    monkeypatch: pytest.MonkeyPatch, make: Callable[..., SdWebUIProvider]
) -> None:
    monkeypatch.setenv("SDWEBUI_TEST_KEY", "alice:s3cret")
    with running_fake_sdwebui(api_auth=("alice", "s3cret")) as url:
        adapter = make(url, api_key_env="SDWEBUI_TEST_KEY")
        assert len(adapter.generate_image(request()).images) == 1

        monkeypatch.setenv("SDWEBUI_TEST_KEY", "alice:wrong")  # read per request
        with pytest.raises(Unavailable, match="credentials") as caught:
            adapter.generate_image(request())

    assert "wrong" not in caught.value.message
