"""The OpenAI adapter against a local fake that follows the published images API shapes."""

from __future__ import annotations

import email.utils
import io
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from promptcanvas.adapters.providers.openai import OpenAIProvider
from promptcanvas.ports.providers import (
    ContentRejected,
    ImageRequest,
    InvalidRequest,
    Message,
    ProviderError,
    RateLimited,
    TextRequest,
    Timeout,
    Unavailable,
    VisionRequest,
)
from promptcanvas.settings import ModelConfig, ProviderConfig
from tests.fakes.openai_server import FakeServer, running_fake_openai
from tests.integration.conftest import free_port


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with running_fake_openai() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server: FakeServer) -> None:
    server.reset()


def config_for(
    url: str, key: str, tmp_path: Path, *, timeout: float = 10.0, **extra: Any
) -> ProviderConfig:
    key_file = tmp_path / "openai.key"
    key_file.write_text(key)
    return ProviderConfig(
        name="openai",
        adapter="openai",
        base_url=url,
        api_key_file=key_file,
        timeout_seconds=timeout,
        **extra,
    )


@pytest.fixture
def provider(server: FakeServer, tmp_path: Path) -> OpenAIProvider:
    return OpenAIProvider(config_for(server.api_url, server.api_key, tmp_path))


def image(model: str, size: tuple[int, int] = (1024, 1024), **fields: Any) -> ImageRequest:
    fields.setdefault("prompt", "a lighthouse at dusk")
    return ImageRequest(model=model, version=None, width=size[0], height=size[1], **fields)


def picture(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_dalle2_url_results_are_downloaded_at_once(
    provider: OpenAIProvider, server: FakeServer
) -> None:
    result = provider.generate_image(
        image("dall-e-2", (256, 256), n=2, params={"response_format": "url"})
    )
    assert len(result.images) == 2
    for generated in result.images:
        assert generated.media_type == "image/png"
        assert picture(generated.data).size == (256, 256)
    paths = [r["path"] for r in server.requests()]
    assert paths[0] == "/v1/images/generations"
    assert len([p for p in paths if p.startswith("/files/")]) == 2
    assert result.usage["images"] == 2
    assert result.usage["size"] == "256x256"


def test_dalle_is_asked_for_base64_by_default(provider: OpenAIProvider, server: FakeServer) -> None:
    result = provider.generate_image(image("dall-e-2", (512, 512)))
    assert picture(result.images[0].data).size == (512, 512)
    assert [r["path"] for r in server.requests()] == ["/v1/images/generations"]


def test_dalle3_keeps_the_revised_prompt(provider: OpenAIProvider) -> None:
    result = provider.generate_image(
        image("dall-e-3", (1792, 1024), params={"quality": "hd", "style": "natural"})
    )
    (generated,) = result.images
    assert generated.revised_prompt == "A detailed, vivid rendering of: a lighthouse at dusk"
    assert picture(generated.data).size == (1792, 1024)
    assert result.usage["quality"] == "hd"


def test_gpt_image_keeps_usage_and_output_format(provider: OpenAIProvider) -> None:
    result = provider.generate_image(
        image("gpt-image-1", (1024, 1536), params={"output_format": "jpeg", "quality": "low"})
    )
    (generated,) = result.images
    assert generated.media_type == "image/jpeg"
    assert picture(generated.data).format == "JPEG"
    assert result.usage["quality"] == "low"
    assert result.usage["size"] == "1024x1536"
    assert result.usage["output_tokens"] == 408
    assert result.usage["total_tokens"] == result.usage["input_tokens"] + 408


def test_an_edit_sends_the_input_image(provider: OpenAIProvider, server: FakeServer) -> None:
    source = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(source, format="PNG")
    result = provider.generate_image(
        image("gpt-image-1", init_image=source.getvalue(), prompt="make it blue")
    )
    assert picture(result.images[0].data).size == (1024, 1024)
    assert server.requests()[0]["path"] == "/v1/images/edits"
    assert result.usage["input_tokens_details"]["image_tokens"] > 0


def test_a_configured_version_is_the_model_id_sent(server: FakeServer, tmp_path: Path) -> None:
    models = {"gpt-image-1": ModelConfig(kind="image", versions=["gpt-image-1-2025-04-15"])}
    provider = OpenAIProvider(config_for(server.api_url, server.api_key, tmp_path, models=models))
    result = provider.generate_image(image("gpt-image-1"))
    assert result.model_version == "gpt-image-1-2025-04-15"
    assert server.requests()[0]["model"] == "gpt-image-1-2025-04-15"


@pytest.mark.parametrize(
    ("request_", "complaint"),
    [
        (image("dall-e-2", (1792, 1024)), "size 1792x1024"),
        (image("dall-e-2", (256, 256), n=11), "n must be between 1 and 10"),
        (image("dall-e-2", (256, 256), prompt="x" * 1001), "at most 1000"),
        (image("dall-e-2", (256, 256), params={"quality": "hd"}), "quality must be"),
        (image("dall-e-2", (256, 256), params={"style": "vivid"}), "unknown parameter"),
        (image("dall-e-3", n=2), "makes one image per request"),
        (image("dall-e-3", prompt="x" * 4001), "at most 4000"),
        (image("dall-e-3", params={"style": "moody"}), "style must be"),
        (image("dall-e-3", init_image=b"\x89PNG\r\n\x1a\n"), "input image"),
        (image("gpt-image-1", (512, 512)), "size 512x512"),
        (image("gpt-image-1", seed=42), "does not take a seed"),
        (image("gpt-image-1", negative_prompt="blur"), "negative prompt"),
        (image("gpt-image-1", steps=30), "does not take steps"),
        (image("gpt-image-1", params={"response_format": "url"}), "unknown parameter"),
        (image("gpt-image-1", params={"output_format": "gif"}), "output_format must be"),
        (
            image("gpt-image-1", params={"background": "transparent", "output_format": "jpeg"}),
            "transparent background",
        ),
        (image("gpt-image-1", params={"output_compression": 50}), "jpeg or webp"),
        (image("gpt-image-1", init_image=b"GIF89a...."), "edits PNG, JPEG, WEBP images only"),
        (image("dall-e-2", (256, 256), init_image=b"\xff\xd8\xff\xe0"), "edits PNG images only"),
        (image("dall-e-4"), "has no image model 'dall-e-4'"),
    ],
)
def test_invalid_requests_are_refused_before_anything_is_sent(
    provider: OpenAIProvider, server: FakeServer, request_: ImageRequest, complaint: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        provider.generate_image(request_)
    assert complaint in caught.value.message
    assert server.requests() == []


def test_a_valid_request_passes_validation(provider: OpenAIProvider) -> None:
    provider.validate_image(
        image("gpt-image-1", params={"output_format": "webp", "output_compression": 80})
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry_after": "7"}, 7.0),
        ({"retry_after": None, "retry_after_ms": "1500"}, 1.5),
        ({"retry_after": None}, None),
    ],
)
def test_429_is_rate_limited_with_retry_after(
    provider: OpenAIProvider,
    server: FakeServer,
    headers: dict[str, Any],
    expected: float | None,
) -> None:
    server.configure(rate_429=1.0, **headers)
    with pytest.raises(RateLimited) as caught:
        provider.generate_image(image("dall-e-3"))
    assert caught.value.retry_after == expected
    assert caught.value.retryable


def test_retry_after_may_be_an_http_date(provider: OpenAIProvider, server: FakeServer) -> None:
    server.configure(
        rate_429=1.0, retry_after=email.utils.formatdate(time.time() + 30, usegmt=True)
    )
    with pytest.raises(RateLimited) as caught:
        provider.generate_image(image("dall-e-3"))
    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 31


def test_500_is_unavailable_and_retryable(provider: OpenAIProvider, server: FakeServer) -> None:
    server.configure(rate_500=1.0)
    with pytest.raises(Unavailable) as caught:
        provider.generate_image(image("dall-e-3"))
    assert caught.value.retryable
    assert "HTTP 500" in caught.value.message
    assert len(server.requests()) == 1  # the SDK's own retries are off


def test_a_stalled_server_is_a_timeout(server: FakeServer, tmp_path: Path) -> None:
    provider = OpenAIProvider(config_for(server.api_url, server.api_key, tmp_path, timeout=0.5))
    server.configure(rate_timeout=1.0, stall_seconds=3)
    started = time.monotonic()
    with pytest.raises(Timeout):
        provider.generate_image(image("dall-e-3"))
    assert time.monotonic() - started < 2.5


def test_a_slow_download_is_a_timeout(server: FakeServer, tmp_path: Path) -> None:
    provider = OpenAIProvider(config_for(server.api_url, server.api_key, tmp_path, timeout=0.5))
    server.configure(slow_stream_seconds=3, slow_stream_only="/files/")
    started = time.monotonic()
    with pytest.raises(Timeout, match="cannot download"):
        provider.generate_image(image("dall-e-2", params={"response_format": "url"}))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("model", "code"),
    [("dall-e-3", "content_policy_violation"), ("gpt-image-1", "moderation_blocked")],
)
def test_a_content_policy_refusal_is_content_rejected(
    provider: OpenAIProvider, server: FakeServer, model: str, code: str
) -> None:
    server.configure(reject_marker="lighthouse")
    with pytest.raises(ContentRejected) as caught:
        provider.generate_image(image(model))
    assert "rejected" in caught.value.message
    assert "safety system" in caught.value.message
    assert not caught.value.retryable


def test_a_malformed_body_is_unavailable(provider: OpenAIProvider, server: FakeServer) -> None:
    server.configure(rate_malformed=1.0)
    with pytest.raises(Unavailable, match="body we cannot read"):
        provider.generate_image(image("dall-e-3"))


def test_an_unreachable_server_is_unavailable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    provider = OpenAIProvider(config_for(url, "sk-test", tmp_path))
    with pytest.raises(Unavailable, match="cannot reach"):
        provider.generate_image(image("dall-e-3"))


def test_a_wrong_key_is_unavailable_and_not_retried(server: FakeServer, tmp_path: Path) -> None:
    provider = OpenAIProvider(config_for(server.api_url, "sk-wrong-but-secret-1234", tmp_path))
    with pytest.raises(Unavailable) as caught:
        provider.generate_image(image("dall-e-3"))
    assert "authentication failed" in caught.value.message
    assert not caught.value.retryable


SECRET = "sk-leaky-secret-key-987654321"


@pytest.mark.parametrize(
    "faults",
    [
        {},  # the fake echoes a wrong key in its 401 message
        {"rate_429": 1.0},
        {"rate_500": 1.0},
        {"rate_malformed": 1.0},
        {"reject_marker": "lighthouse"},
        {"rate_timeout": 1.0, "stall_seconds": 2},
    ],
)
def test_the_api_key_is_never_in_an_error(tmp_path: Path, faults: dict[str, Any]) -> None:
    # Here the configured key is the one the fake accepts, except in the 401 case.
    key = SECRET if faults else "sk-not-the-one-" + SECRET
    with running_fake_openai(api_key=SECRET, **faults) as fake:
        provider = OpenAIProvider(config_for(fake.api_url, key, tmp_path, timeout=0.5))
        with pytest.raises(ProviderError) as caught:
            provider.generate_image(image("dall-e-3"))
    error = caught.value
    shown = "".join(traceback.format_exception(error)) + repr(error) + repr(error.__dict__)
    assert key not in shown
    assert SECRET not in shown


def test_chat_completion(provider: OpenAIProvider, server: FakeServer) -> None:
    result = provider.complete(
        TextRequest(
            model="gpt-4o-mini",
            version=None,
            messages=(Message("system", "Be brief."), Message("user", "Describe a fox.")),
            max_tokens=100,
            seed=3,
        )
    )
    assert result.text == "Echo: Describe a fox."
    assert result.usage["input_tokens"] > 0
    assert result.usage["total_tokens"] == (
        result.usage["input_tokens"] + result.usage["output_tokens"]
    )
    assert server.requests()[0]["path"] == "/v1/chat/completions"


def test_a_chat_refusal_is_content_rejected(provider: OpenAIProvider, server: FakeServer) -> None:
    server.configure(reject_marker="forbidden")
    with pytest.raises(ContentRejected, match="can't help"):
        provider.complete(
            TextRequest(model="gpt-4o-mini", version=None, messages=(Message("user", "forbidden"),))
        )


def test_vision_sees_the_image(provider: OpenAIProvider) -> None:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), (18, 52, 86)).save(data, format="PNG")
    result = provider.describe(
        VisionRequest(
            model="gpt-4o-mini",
            version=None,
            image=data.getvalue(),
            media_type="image/png",
            question="What is this?",
        )
    )
    assert result.text == "I see a 40x30 image, mostly #123456."
    assert result.usage["input_tokens"] >= 85


def test_vision_refuses_an_unsupported_type_before_sending(
    provider: OpenAIProvider, server: FakeServer
) -> None:
    with pytest.raises(InvalidRequest):
        provider.describe(
            VisionRequest("gpt-4o-mini", None, b"II*\x00", "image/tiff", "What is this?")
        )
    assert server.requests() == []


def test_default_models() -> None:
    provider = OpenAIProvider(ProviderConfig(name="openai", adapter="openai"))
    assert {(m.name, m.kind) for m in provider.models()} == {
        ("dall-e-2", "image"),
        ("dall-e-3", "image"),
        ("gpt-image-1", "image"),
        ("gpt-4o-mini", "text"),
        ("gpt-4o-mini", "vision"),
    }


def test_an_unknown_image_model_is_a_configuration_error() -> None:
    config = ProviderConfig(
        name="openai", adapter="openai", models={"stable-diffusion": ModelConfig(kind="image")}
    )
    with pytest.raises(ValueError, match="unknown OpenAI image model 'stable-diffusion'"):
        OpenAIProvider(config)


def test_the_fake_s_faults_follow_its_seed(provider: OpenAIProvider, server: FakeServer) -> None:
    def outcomes() -> list[str]:
        server.configure(seed=11, rate_500=0.5)
        seen = []
        for _ in range(8):
            try:
                provider.generate_image(image("dall-e-2", (256, 256)))
                seen.append("ok")
            except Unavailable:
                seen.append("500")
        return seen

    first = outcomes()
    assert first == outcomes()
    assert {"ok", "500"} == set(first)


def test_a_caller_supplied_httpx_client_is_used(server: FakeServer, tmp_path: Path) -> None:
    seen: list[str] = []
    client = httpx.Client(
        trust_env=False, event_hooks={"request": [lambda request: seen.append(request.url.path)]}
    )
    config = config_for(server.api_url, server.api_key, tmp_path, timeout=0.5)
    with client:
        provider = OpenAIProvider(config, http_client=client)
        provider.generate_image(image("dall-e-3"))
        server.configure(rate_timeout=1.0, stall_seconds=2)
        with pytest.raises(Timeout):
            provider.generate_image(image("dall-e-3"))
    assert seen == ["/v1/images/generations", "/v1/images/generations"]


@pytest.mark.parametrize(
    "body",
    [
        {"created": 1, "data": "nope"},
        {"created": 1, "data": [1, None]},
        {"created": 1, "data": [{"b64_json": 5}]},
        {"created": 1, "data": [{"b64_json": "not base64!"}]},
        {"created": 1},
        [],
    ],
)
def test_a_body_of_the_wrong_shape_is_unavailable(tmp_path: Path, body: Any) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    config = config_for("http://openai.test/v1", "sk-test", tmp_path)
    with httpx.Client(transport=transport) as client:
        provider = OpenAIProvider(config, http_client=client)
        with pytest.raises(Unavailable):
            provider.generate_image(image("dall-e-3"))
