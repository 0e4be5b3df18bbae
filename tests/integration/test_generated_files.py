"""Files the offline `local` provider makes, through the API and the CLI, read back by other
tools: Pillow opens them, and sd-parsers (the reader of A1111-style metadata) and our own reader
find the prompt, negative prompt, seed and model. No provider is configured and nothing leaves
the machine.
"""

from __future__ import annotations

import io
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sd_parsers.data import PromptInfo

from promptcanvas.bootstrap import Container
from promptcanvas.services.metadata import a1111
from promptcanvas.services.metadata.reader import read_metadata
from tests.cli import Cli
from tests.conftest import Api
from tests.peers import sd_parse

PROMPTS = [
    pytest.param("a lighthouse on a cliff at dusk, oil painting", "blurry, low quality", id="en"),
    pytest.param("밤하늘 아래 고양이, 수채화", "흐림, 저화질", id="ko"),
]
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection beyond this machine fails the test (the database may be local TCP)."""
    connect = socket.socket.connect

    def local_only(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise AssertionError(f"a generation tried to reach {address}")
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


def read_back(data: bytes) -> tuple[Image.Image, PromptInfo]:
    """The picture as Pillow opens it and its metadata as sd-parsers reads it."""
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes every pixel: a truncated or corrupt file fails here
    info = sd_parse(data)
    assert info is not None, "sd-parsers found no generation parameters"
    return image, info


def check_file(data: bytes, text: str, negative: str, generation: dict[str, Any]) -> None:
    """What another tool sees in one of our PNGs."""
    image, info = read_back(data)
    assert image.format == "PNG" and image.size == (512, 512)
    assert info.generator.value == "AUTOMATIC1111"
    assert info.full_prompt == text
    assert info.full_negative_prompt == negative
    (sampler,) = info.samplers
    assert sampler.model is not None and sampler.model.name == "sketch"
    # A procedural renderer has no steps, sampler or guidance; the neutral values stand in.
    assert sampler.name == "local"
    assert sampler.parameters == {"seed": "7", "steps": "1", "cfg_scale": "1"}
    assert info.metadata == {
        "Size": "512x512",
        "Model version": "2",
        "Provider": "local",
        "Version": "PromptCanvas",
    }
    record = json.loads(image.info["promptcanvas"])
    assert record["generation_id"] == generation["id"]
    assert record["prompt_id"] == generation["prompt_id"]
    assert (record["prompt"], record["negative_prompt"], record["seed"]) == (text, negative, 7)
    target = (record["provider"], record["model"], record["model_version"])
    assert target == ("local", "sketch", "2")
    check_our_reader(data, text, negative, generation)


def check_our_reader(data: bytes, text: str, negative: str, generation: dict[str, Any]) -> None:
    """Our own reader finds the full record, and the same settings in the A1111 text alone."""
    found = read_metadata(data)
    assert found.generator == "PromptCanvas"
    assert (found.prompt, found.negative_prompt, found.seed) == (text, negative, 7)
    assert (found.model, found.extra["model_version"]) == ("sketch", "2")
    assert found.extra["generation_id"] == generation["id"]
    assert set(found.raw) >= {"parameters", "promptcanvas"}
    alone = a1111.parse_parameters(found.raw["parameters"])
    assert alone.generator == "PromptCanvas"
    assert (alone.prompt, alone.negative_prompt) == (text, negative)
    assert (alone.seed, alone.model, alone.width, alone.height) == (7, "sketch", 512, 512)
    assert alone.extra["Model version"] == "2" and alone.extra["Provider"] == "local"


@pytest.mark.parametrize(("text", "negative"), PROMPTS)
def test_api_generation_with_worker_threads_writes_a_readable_png(
    container: Container, alice: Api, text: str, negative: str
) -> None:
    pool = container.worker_pool(threads=2)
    pool.start()
    try:
        response = alice.post(
            "/api/v1/generations",
            json={
                "provider": "local",
                "model": "sketch",
                "model_version": "2",
                "text": text,
                "negative_text": negative,
                "seed": 7,
            },
        )
        assert response.status_code == 202, response.text
        queued = response.json()
        deadline = time.monotonic() + 30
        while True:
            job = alice.get(f"/api/v1/jobs/{queued['job_id']}").json()
            if job["status"] not in ("PENDING", "RUNNING") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        pool.stop()
    assert job["status"] == "SUCCESS", job
    generation = alice.get(f"/api/v1/generations/{queued['generation_ids'][0]}").json()
    assert generation["status"] == "SUCCESS"
    (asset,) = generation["assets"]
    download = alice.get(asset["url"])
    assert download.status_code == 200
    check_file(download.content, text, negative, generation)


@pytest.mark.parametrize(("text", "negative"), PROMPTS)
def test_cli_generate_writes_a_readable_png(
    tmp_path: Path, database_url: str, text: str, negative: str
) -> None:
    cli = Cli(tmp_path / "data", database_url)
    out = cli.json(
        "generate",
        text,
        "--negative",
        negative,
        "--provider",
        "local",
        "--model",
        "sketch",
        "--version",
        "2",
        "--seed",
        "7",
    )
    assert out["job"]["status"] == "SUCCESS"
    (generation,) = out["generations"]
    assert generation["status"] == "SUCCESS" and generation["seed"] == 7
    (path,) = out["files"]
    assert Path(path).is_file() and Path(path).is_relative_to(tmp_path / "data")
    check_file(Path(path).read_bytes(), text, negative, generation)
    # sd-parsers also reads the file by its path, as a user of the CLI would hand it over.
    info = sd_parse(path)
    assert info is not None and info.full_prompt == text
