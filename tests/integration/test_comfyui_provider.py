"""The ComfyUI adapter over real HTTP against the fake ComfyUI server."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from promptcanvas.adapters.providers.comfyui import ComfyUIProvider
from promptcanvas.adapters.providers.comfyui_workflow import DEFAULT_WORKFLOW, Fill, Workflow
from promptcanvas.ports.providers import (
    ImageRequest,
    InvalidRequest,
    RateLimited,
    Timeout,
    Unavailable,
)
from promptcanvas.settings import ProviderConfig
from tests.fakes.comfyui_server import CHECKPOINTS, running_fake_comfyui

SDXL = CHECKPOINTS[1]  # "sd_xl_base_1.0.safetensors"

# A hand-written template in API format that marks what to fill with placeholders: the
# prompt sits inside longer text, the negative prompt and batch size are fixed.
PLACEHOLDER_WORKFLOW = {
    "10": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "{{checkpoint}}"}},
    "11": {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "{{prompt}}, highly detailed", "clip": ["10", 1]},
    },
    "12": {"class_type": "CLIPTextEncode", "inputs": {"text": "watermark", "clip": ["10", 1]}},
    "13": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": "{{width}}", "height": "{{height}}", "batch_size": 1},
    },
    "14": {
        "class_type": "KSampler",
        "inputs": {
            "model": ["10", 0],
            "positive": ["11", 0],
            "negative": ["12", 0],
            "latent_image": ["13", 0],
            "seed": "{{seed}}",
            "steps": "{{steps}}",
            "cfg": 4.0,
            "sampler_name": "dpmpp_2m",
            "scheduler": "karras",
            "denoise": 1.0,
        },
    },
    "15": {"class_type": "VAEDecode", "inputs": {"samples": ["14", 0], "vae": ["10", 2]}},
    "16": {"class_type": "PreviewImage", "inputs": {"images": ["15", 0]}},
    "17": {"class_type": "SaveImage", "inputs": {"images": ["15", 0], "filename_prefix": "pc"}},
}


class Fake:
    """A running fake ComfyUI and what it saw."""

    def __init__(self, url: str) -> None:
        self.url = url

    def faults(self, **changes: Any) -> None:
        httpx.post(f"{self.url}/_fake/config", json=changes).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = httpx.get(f"{self.url}/_fake/requests").json()
        return seen

    def queued_graphs(self) -> list[dict[str, Any]]:
        return [
            r["json"]["prompt"]
            for r in self.requests()
            if (r["method"], r["path"]) == ("POST", "/prompt")
        ]

    def occupy(self) -> str:
        """Queue a prompt of someone else's, so the next one waits behind it."""
        graph, _ = Workflow(DEFAULT_WORKFLOW).fill(
            Fill(
                prompt="someone else's",
                negative_prompt="",
                seed=1,
                width=64,
                height=64,
                batch_size=1,
                checkpoint=SDXL,
            )
        )
        answer = httpx.post(f"{self.url}/prompt", json={"prompt": graph}).json()
        prompt_id: str = answer["prompt_id"]
        return prompt_id


@pytest.fixture
def fake() -> Iterator[Fake]:
    with running_fake_comfyui() as url:
        yield Fake(url)


def config(url: str, **overrides: Any) -> ProviderConfig:
    fields: dict[str, Any] = {
        "name": "comfy",
        "adapter": "comfyui",
        "base_url": url,
        "timeout_seconds": 10,
        "models": {SDXL: {"versions": ["1.0"]}, "missing.safetensors": {}},
    }
    return ProviderConfig(**{**fields, **overrides})


@pytest.fixture
def make() -> Iterator[Callable[..., ComfyUIProvider]]:
    """Build adapters (closed after the test): make(url, **config fields)."""
    built: list[ComfyUIProvider] = []

    def build(url: str, **overrides: Any) -> ComfyUIProvider:
        built.append(ComfyUIProvider(config(url, **overrides), poll_interval=0.02))
        return built[-1]

    yield build
    for adapter in built:
        adapter.close()


@pytest.fixture
def provider(fake: Fake, make: Callable[..., ComfyUIProvider]) -> ComfyUIProvider:
    return make(fake.url)


def request(**fields: Any) -> ImageRequest:
    values: dict[str, Any] = {
        "model": SDXL,
        "version": None,
        "prompt": "a red fox in the snow",
        "width": 64,
        "height": 64,
    }
    return ImageRequest(**{**values, **fields})


def node(graph: dict[str, Any], class_type: str) -> dict[str, Any]:
    [found] = [n["inputs"] for n in graph.values() if n["class_type"] == class_type]
    return found


def linked(graph: dict[str, Any], link: list[Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = graph[str(link[0])]["inputs"]
    return inputs


def size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_the_default_workflow_gets_every_field_in_the_right_node(
    fake: Fake, provider: ComfyUIProvider
) -> None:
    result = provider.generate_image(
        request(
            prompt="a lighthouse at dusk",
            negative_prompt="blurry",
            seed=42,
            steps=12,
            cfg_scale=5.5,
            sampler="dpmpp_2m",
            params={"scheduler": "karras"},
            width=128,
            height=96,
            n=2,
        )
    )

    [queued] = [r["json"] for r in fake.requests() if r["path"] == "/prompt"]
    assert queued["client_id"]
    graph = queued["prompt"]
    sampler = node(graph, "KSampler")
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (42, 12, 5.5)
    assert (sampler["sampler_name"], sampler["scheduler"]) == ("dpmpp_2m", "karras")
    assert linked(graph, sampler["positive"])["text"] == "a lighthouse at dusk"
    assert linked(graph, sampler["negative"])["text"] == "blurry"
    assert node(graph, "EmptyLatentImage") == {"width": 128, "height": 96, "batch_size": 2}
    assert node(graph, "CheckpointLoaderSimple")["ckpt_name"] == SDXL

    assert [image.seed for image in result.images] == [42, 42]
    assert [image.info["batch_index"] for image in result.images] == [0, 1]
    assert all(image.media_type == "image/png" for image in result.images)
    assert [size(image.data) for image in result.images] == [(128, 96), (128, 96)]
    assert result.images[0].data != result.images[1].data
    assert result.model_version == "1.0"
    views = [r["query"] for r in fake.requests() if r["path"] == "/view"]
    assert [v["type"] for v in views] == ["output", "output"]


def test_without_a_seed_one_is_chosen_and_reported(fake: Fake, provider: ComfyUIProvider) -> None:
    result = provider.generate_image(request())

    [graph] = fake.queued_graphs()
    seed = node(graph, "KSampler")["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    assert result.images[0].seed == seed


def test_unset_sampler_settings_keep_the_workflows_and_are_reported(
    fake: Fake, provider: ComfyUIProvider
) -> None:
    result = provider.generate_image(request())

    sampler = node(fake.queued_graphs()[0], "KSampler")
    assert (sampler["steps"], sampler["sampler_name"]) == (20, "euler")
    info = result.images[0].info
    assert (info["steps"], info["cfg"], info["sampler"], info["scheduler"]) == (
        20,
        7.0,
        "euler",
        "normal",
    )


def test_progress_goes_from_queued_to_done(fake: Fake, provider: ComfyUIProvider) -> None:
    fake.faults(run_seconds=0.3)
    seen: list[float] = []

    provider.generate_image(request(n=2), progress=seen.append)

    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)
    assert 0.1 in seen  # it saw the prompt running


def test_node_errors_are_an_invalid_request_naming_the_node(
    fake: Fake, provider: ComfyUIProvider
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        provider.generate_image(request(model="missing.safetensors"))

    message = caught.value.message
    assert "Prompt outputs failed validation" in message
    assert "CheckpointLoaderSimple (node 1): Value not in list" in message
    assert "missing.safetensors" in message
    assert not caught.value.retryable


def test_an_unknown_sampler_is_refused_by_the_server(provider: ComfyUIProvider) -> None:
    with pytest.raises(InvalidRequest, match="KSampler .*sampler_name: 'warp' not in"):
        provider.generate_image(request(sampler="warp"))


def test_an_execution_error_in_the_history_is_unavailable(
    fake: Fake, provider: ComfyUIProvider
) -> None:
    fake.faults(execution_error=True)

    with pytest.raises(Unavailable, match="KSampler \\(node 5\\) failed: .*CUDA out of memory"):
        provider.generate_image(request())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"width": 60}, "multiples of 8"),
        ({"n": 9}, "n must be between 1 and 8"),
        ({"model": "other.safetensors"}, "has no image model"),
        ({"seed": -1}, "seed must be between"),
        ({"init_image": b"png"}, "does not take an input image"),
        ({"params": {"clip_skip": 2}}, "unknown parameter"),
        ({"params": {"scheduler": 3}}, "scheduler"),
    ],
)
def test_a_request_validation_refuses_sends_nothing(
    fake: Fake, provider: ComfyUIProvider, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        provider.generate_image(request(**fields))

    assert fake.requests() == []


def test_429_is_rate_limited_with_retry_after(fake: Fake, provider: ComfyUIProvider) -> None:
    fake.faults(rate_limit_rate=1.0, retry_after=3)

    with pytest.raises(RateLimited) as caught:
        provider.generate_image(request())

    assert caught.value.retry_after == 3.0


def test_500_is_unavailable(fake: Fake, provider: ComfyUIProvider) -> None:
    fake.faults(error_rate=1.0)

    with pytest.raises(Unavailable, match="HTTP 500"):
        provider.generate_image(request())


def test_a_run_past_the_timeout_is_a_timeout_and_leaves_the_queue(
    fake: Fake, make: Callable[..., ComfyUIProvider]
) -> None:
    fake.faults(run_seconds=2.0)
    fake.occupy()
    adapter = make(fake.url, timeout_seconds=0.4)

    with pytest.raises(Timeout):
        adapter.generate_image(request())

    assert len(fake.queued_graphs()) == 2  # someone else's, then ours
    deletes = [r["json"] for r in fake.requests() if (r["method"], r["path"]) == ("POST", "/queue")]
    assert len(deletes) == 1 and len(deletes[0]["delete"]) == 1
    queue = httpx.get(f"{fake.url}/queue").json()
    assert queue["queue_pending"] == []  # ours was taken off the queue
    assert len(queue["queue_running"]) == 1  # the other client's run goes on


def test_a_prompt_dropped_from_the_queue_is_unavailable(
    fake: Fake, provider: ComfyUIProvider
) -> None:
    fake.faults(run_seconds=1.0)
    fake.occupy()

    def clear_queue(fraction: float) -> None:
        if fraction == 0.0:
            httpx.post(f"{fake.url}/queue", json={"clear": True}).raise_for_status()

    with pytest.raises(Unavailable, match="dropped the prompt"):
        provider.generate_image(request(), progress=clear_queue)


def test_a_custom_workflow_with_placeholders(
    fake: Fake, make: Callable[..., ComfyUIProvider], tmp_path: Path
) -> None:
    path = tmp_path / "portrait.json"
    path.write_text(json.dumps(PLACEHOLDER_WORKFLOW))
    adapter = make(fake.url, options={"workflow": str(path)})

    result = adapter.generate_image(request(prompt="a fox", seed=9, width=96, height=64))

    [graph] = fake.queued_graphs()
    assert graph["11"]["inputs"]["text"] == "a fox, highly detailed"
    assert graph["12"]["inputs"]["text"] == "watermark"
    assert graph["13"]["inputs"] == {"width": 96, "height": 64, "batch_size": 1}
    assert (graph["14"]["inputs"]["seed"], graph["14"]["inputs"]["steps"]) == (9, 20)
    assert graph["10"]["inputs"]["ckpt_name"] == SDXL
    # The preview (a temp image) is not a result; the saved one is.
    [image] = result.images
    assert (image.seed, size(image.data)) == (9, (96, 64))
    assert image.info["steps"] == 20 and "sampler" not in image.info


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n": 2}, "n must be between 1 and 1"),
        ({"negative_prompt": "blurry"}, "does not take a negative prompt"),
        ({"cfg_scale": 3.0}, "does not take cfg_scale"),
        ({"params": {"scheduler": "karras"}}, "unknown parameter"),
    ],
)
def test_a_placeholder_workflow_takes_only_what_it_marks(
    fake: Fake,
    make: Callable[..., ComfyUIProvider],
    tmp_path: Path,
    fields: dict[str, Any],
    message: str,
) -> None:
    path = tmp_path / "portrait.json"
    path.write_text(json.dumps(PLACEHOLDER_WORKFLOW))
    adapter = make(fake.url, options={"workflow": str(path)})

    with pytest.raises(InvalidRequest, match=message):
        adapter.generate_image(request(**fields))
    assert fake.requests() == []


def _two_samplers() -> dict[str, Any]:
    graph = json.loads(json.dumps(DEFAULT_WORKFLOW))
    graph["8"] = {"class_type": "KSampler", "inputs": dict(graph["5"]["inputs"])}
    return graph


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"nodes": [], "links": []}), "Save \\(API Format\\)"),
        (json.dumps({"1": {"inputs": {}}}), "needs a class_type"),
        (json.dumps({"1": {"class_type": "X", "inputs": {"a": "{{colour}}"}}}), "colour"),
        (json.dumps({"1": {"class_type": "X", "inputs": {"a": "{{seed}}"}}}), "prompt, width"),
        (json.dumps(_two_samplers()), "2 KSampler nodes"),
    ],
)
def test_a_broken_workflow_file_fails_at_start_up(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "workflow.json"
    path.write_text(content)

    with pytest.raises(ValueError, match=message):
        ComfyUIProvider(config("http://127.0.0.1:9", options={"workflow": str(path)}))
