"""GET /api/v1/assets/{id}/download: files with their generation metadata, converted on request.

What a user sees: the downloaded file opens, other tools (sd-parsers) find the prompt and
settings in it, our reader finds the whole record, and converting or shrinking keeps both.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image

from promptcanvas.bootstrap import Container
from promptcanvas.ports.providers import ImageRequest, ImageResult
from promptcanvas.ports.providers.base import GeneratedImage, Progress
from promptcanvas.ports.providers.fake import FakeImageModel
from promptcanvas.services.metadata.reader import read_metadata
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ProviderConfig, Settings
from tests import factories
from tests.conftest import Api
from tests.jobs import drain, no_wait_retries
from tests.peers import sd_parse

FIXTURES = Path("/work/shared/fixtures/metadata")
TEXT = '밤하늘 아래 고양이, 夜空の猫, "lantern": warm'
NEGATIVE = "흐림, blurry"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return no_wait_retries(settings)


class ShapedModel(FakeImageModel):
    """The fake provider, answering with a non-square image in a chosen format."""

    def __init__(self, size: tuple[int, int], kind: str) -> None:
        super().__init__("shaped")
        self.size, self.kind = size, kind

    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        result = super().generate_image(request, progress)
        out = io.BytesIO()
        Image.new("RGB", self.size, (200, 120, 40)).save(out, self.kind)
        media = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[self.kind]
        images = tuple(GeneratedImage(out.getvalue(), media, seed=i.seed) for i in result.images)
        return ImageResult(images, usage=result.usage)


def generate(
    container: Container, api: Api, size: tuple[int, int] = (300, 200), kind: str = "PNG"
) -> dict[str, Any]:
    """One finished generation of TEXT on the shaped fake provider; returns it (with assets)."""
    config = ProviderConfig(name="shaped", adapter="local", concurrency=2)
    container.registry.entries["shaped"] = ProviderEntry(config, ShapedModel(size, kind))
    body = {
        "provider": "shaped",
        "model": "toy",
        "model_version": "2",
        "text": TEXT,
        "negative_text": NEGATIVE,
        "seed": 3_000_000_007,
        "params": {"steps": 12, "cfg_scale": 6.5, "sampler": "Euler a"},
    }
    queued = api.post("/api/v1/generations", json=body)
    assert queued.status_code == 202, queued.text
    assert drain(container) == 1
    generation = api.get(f"/api/v1/generations/{queued.json()['generation_ids'][0]}").json()
    assert generation["status"] == "SUCCESS", generation
    return generation  # type: ignore[no-any-return]


def download(api: Api, asset_id: str, **params: Any) -> Any:
    return api.get(f"/api/v1/assets/{asset_id}/download", params=params)


def check_generation_metadata(data: bytes, generation: dict[str, Any]) -> None:
    """Our reader gets the whole record; sd-parsers gets the A1111 text."""
    record = read_metadata(data)
    assert record.generator == "PromptCanvas"
    assert (record.prompt, record.negative_prompt) == (TEXT, NEGATIVE)
    assert (record.seed, record.steps, record.cfg_scale, record.sampler) == (
        3_000_000_007,
        12,
        6.5,
        "Euler a",
    )
    assert (record.model, record.extra["model_version"], record.extra["provider"]) == (
        "toy",
        "2",
        "shaped",
    )
    assert record.extra["generation_id"] == generation["id"]
    assert record.extra["prompt_id"] == generation["prompt_id"]
    info = sd_parse(data)
    assert info is not None
    assert (info.full_prompt, info.full_negative_prompt) == (TEXT, NEGATIVE)
    assert info.samplers[0].parameters["seed"] == str(3_000_000_007)


def test_an_output_downloads_as_stored_with_its_metadata(container: Container, alice: Api) -> None:
    generation = generate(container, alice)
    (asset,) = generation["assets"]
    response = download(alice, asset["id"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{generation["id"]}.png"')
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (300, 200))
    check_generation_metadata(response.content, generation)


@pytest.mark.parametrize(("fmt", "pil"), [("jpeg", "JPEG"), ("webp", "WEBP"), ("png", "PNG")])
def test_converting_and_shrinking_keeps_aspect_ratio_and_metadata(
    container: Container, alice: Api, fmt: str, pil: str
) -> None:
    generation = generate(container, alice, size=(300, 200))
    (asset,) = generation["assets"]
    response = download(alice, asset["id"], format=fmt, max_size=150)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"image/{fmt}"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert (image.format, image.size) == (pil, (150, 100))
    ext = "jpg" if fmt == "jpeg" else fmt
    assert f'filename="{generation["id"]}-150px.{ext}"' in response.headers["content-disposition"]
    check_generation_metadata(response.content, generation)


def test_a_non_png_output_gets_its_metadata_on_download(container: Container, alice: Api) -> None:
    # Providers that answer in JPEG store files without metadata; the download adds it.
    generation = generate(container, alice, size=(120, 90), kind="JPEG")
    (asset,) = generation["assets"]
    stored = alice.get(f"/api/v1/assets/{asset['id']}/content").content
    assert read_metadata(stored).generator is None
    response = download(alice, asset["id"])
    assert response.headers["content-type"] == "image/jpeg"
    check_generation_metadata(response.content, generation)
    assert response.content.endswith(stored[stored.index(b"\xff\xda") :])  # not re-encoded


def test_never_enlarges(container: Container, alice: Api) -> None:
    generation = generate(container, alice, size=(300, 200))
    response = download(alice, generation["assets"][0]["id"], format="webp", max_size=4000)
    assert Image.open(io.BytesIO(response.content)).size == (300, 200)
    assert "px." not in response.headers["content-disposition"]


def test_an_upload_keeps_what_it_carries(alice: Api) -> None:
    original = (FIXTURES / "a1111.png").read_bytes()
    asset = alice.upload(original, "오리 사진.png").json()
    same = download(alice, asset["id"])
    assert same.content == original  # nothing of ours is added to someone else's file
    converted = download(alice, asset["id"], format="jpeg")
    assert converted.status_code == 200
    record = read_metadata(converted.content)
    assert (record.generator, record.prompt, record.negative_prompt) == (
        "AUTOMATIC1111",
        "photo of a duck",
        "monochrome",
    )
    assert (record.seed, record.steps, record.model_hash) == (235284042, 15, "c0d1994c73")
    info = sd_parse(converted.content)
    assert info is not None and info.full_prompt == "photo of a duck"
    disposition = converted.headers["content-disposition"]
    assert 'filename="_.jpg"' not in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "오리 사진.jpg"
    assert disposition.isascii()


def test_comfyui_graphs_survive_a_trip_through_jpeg(alice: Api) -> None:
    original = Image.open(FIXTURES / "comfyui_img2img.png")
    chunks = {k: original.text[k] for k in ("prompt", "workflow") if k in original.text}
    asset = alice.upload((FIXTURES / "comfyui_img2img.png").read_bytes(), "comfy.png").json()
    as_jpeg = download(alice, asset["id"], format="jpeg")
    assert as_jpeg.status_code == 200, as_jpeg.text
    # Tools that only read A1111 text find the prompt and settings written for them.
    info = sd_parse(as_jpeg.content)
    assert info is not None and "victorian woman with wings" in info.full_prompt
    record = read_metadata(as_jpeg.content)
    assert (record.generator, record.seed, record.steps) == ("ComfyUI", 280823642470253, 20)
    # The original graphs travel in XMP and come back as PNG chunks.
    jpeg_asset = alice.upload(as_jpeg.content, "comfy.jpg").json()
    back = download(alice, jpeg_asset["id"], format="png")
    restored = Image.open(io.BytesIO(back.content))
    restored.load()
    assert {k: restored.text[k] for k in chunks} == chunks
    assert read_metadata(back.content).generator == "ComfyUI"


def test_exif_orientation_is_applied_when_converting(alice: Api) -> None:
    asset = alice.upload(factories.jpeg(80, 40, orientation=6), "phone.jpg").json()
    response = download(alice, asset["id"], format="png")
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (40, 80)
    assert image.getexif().get(0x0112) is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "gif"}, "format"),
        ({"format": "png\u0000"}, "format"),
        ({"max_size": 0}, "max_size"),
        ({"max_size": 100_000}, "max_size"),
        ({"max_size": "big"}, "max_size"),
    ],
)
def test_bad_format_or_size_is_a_clear_422(alice: Api, params: dict[str, Any], field: str) -> None:
    asset = alice.upload(factories.png()).json()
    response = download(alice, asset["id"], **params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["message"]


def test_only_the_owner_can_download(alice: Api, bob: Api, client: Any) -> None:
    asset = alice.upload(factories.png()).json()
    assert download(bob, asset["id"]).status_code == 404
    assert download(bob, asset["id"], format="jpeg").status_code == 404
    assert download(alice, "0" * 26).status_code == 404
    assert client.get(f"/api/v1/assets/{asset['id']}/download").status_code == 401
