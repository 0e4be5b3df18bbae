"""The offline local provider: pictures follow the prompt's words, the same request gives the same
bytes, and the text and vision models say only what they can know."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from PIL import Image

from promptcanvas.adapters.providers.local import LocalProvider
from promptcanvas.ports.providers import (
    ImageRequest,
    InvalidRequest,
    Message,
    TextRequest,
    VisionRequest,
)
from promptcanvas.settings import ProviderConfig

SIZE = 256


@pytest.fixture(scope="module")
def local() -> LocalProvider:
    return LocalProvider(ProviderConfig(name="local", adapter="local"))


def request(prompt: str, **fields: Any) -> ImageRequest:
    fields = {"version": "2", "width": SIZE, "height": SIZE, "seed": 1} | fields
    return ImageRequest(model="sketch", prompt=prompt, **fields)


def render(local: LocalProvider, prompt: str, **fields: Any) -> bytes:
    return local.generate_image(request(prompt, **fields)).images[0].data


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def apart(a: bytes, b: bytes) -> float:
    """Mean difference of 32x32 grey thumbnails: composition and tone, not pixel noise."""

    def thumb(data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as image:
            small = image.convert("L").resize((32, 32), Image.Resampling.BOX)
            return np.asarray(small, dtype=np.float32)

    return float(np.abs(thumb(a) - thumb(b)).mean())


def png(colour: tuple[int, int, int], size: tuple[int, int] = (120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


# --- the same request, the same picture ------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_the_same_request_gives_byte_identical_pngs(local: LocalProvider, version: str) -> None:
    first = render(local, "강아지가 해변을 달리는 노을 풍경, 수채화", version=version)
    again = render(local, "강아지가 해변을 달리는 노을 풍경, 수채화", version=version)
    assert first == again
    with Image.open(io.BytesIO(first)) as image:
        assert image.size == (SIZE, SIZE)
        assert image.info == {}  # no timestamps or text chunks to vary


def test_renders_are_identical_from_several_threads(local: LocalProvider) -> None:
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda _: render(local, "cyberpunk city at night"), range(4)))
    assert len(set(outputs)) == 1


def test_a_different_seed_gives_a_different_picture(local: LocalProvider) -> None:
    one = render(local, "a dog in a meadow", seed=1)
    two = render(local, "a dog in a meadow", seed=2)
    assert one != two
    assert apart(one, two) > 5


def test_the_two_versions_look_clearly_different(local: LocalProvider) -> None:
    for prompt in ("밤하늘 아래 고양이", "sunny beach at noon", "a red house"):
        flat, soft = render(local, prompt, version="1"), render(local, prompt, version="2")
        assert apart(flat, soft) > 15, prompt


def test_n_images_use_consecutive_seeds(local: LocalProvider) -> None:
    result = local.generate_image(request("a cat and a tree", n=3, seed=10))
    assert [image.seed for image in result.images] == [10, 11, 12]
    assert len({image.data for image in result.images}) == 3
    assert result.images[1].data == render(local, "a cat and a tree", seed=11)
    assert result.model_version == "2"


def test_without_a_seed_the_prompt_picks_one(local: LocalProvider) -> None:
    first = local.generate_image(request("a quiet forest", seed=None)).images[0]
    again = local.generate_image(request("a quiet forest", seed=None)).images[0]
    assert first.seed is not None and first.seed == again.seed
    assert first.data == again.data


def test_progress_climbs_to_one(local: LocalProvider) -> None:
    seen: list[float] = []
    local.generate_image(request("a boat on the sea", n=2), progress=seen.append)
    assert seen == sorted(seen) and len(seen) >= 4 and seen[-1] == 1.0


# --- the words shape the picture -------------------------------------------------------------


def test_korean_night_sky_is_dark_at_the_top(local: LocalProvider) -> None:
    result = local.generate_image(request("밤하늘 아래 고양이"))
    image = result.images[0]
    assert {"night", "cat"} <= set(image.info["words"])
    assert pixels(image.data)[: SIZE // 6].mean() < 45


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("고양이가 밤에 잔다", ["cat", "night"]),  # particles: 고양이가, 밤에
        ("해변을 달리는 강아지", ["beach", "running", "dog"]),  # no 해 (sun) inside 해변
        ("A red car, pixel art", ["red", "car", "pixel art"]),
    ],
)
def test_korean_and_english_words_are_recognised(
    local: LocalProvider, prompt: str, words: list[str]
) -> None:
    image = local.generate_image(request(prompt, width=64, height=64)).images[0]
    assert image.info["words"] == words


def test_a_sunny_beach_at_noon_is_bright(local: LocalProvider) -> None:
    assert pixels(render(local, "sunny beach at noon")).mean() > 130
    assert pixels(render(local, "sunny beach at noon", version="1")).mean() > 130


@pytest.mark.parametrize("version", ["1", "2"])
def test_red_makes_the_picture_redder_than_blue(local: LocalProvider, version: str) -> None:
    def redness(prompt: str) -> float:
        rgb = pixels(render(local, prompt, version=version))
        return float((rgb[..., 0] - rgb[..., 2]).mean())

    assert redness("a red house") > redness("a blue house") + 40


def test_the_negative_prompt_takes_a_colour_out(local: LocalProvider) -> None:
    def redness(data: bytes) -> float:
        rgb = pixels(data)
        return float((rgb[..., 0] - (rgb[..., 1] + rgb[..., 2]) / 2).mean())

    plain = render(local, "red flowers in a garden")
    without = render(local, "red flowers in a garden", negative_prompt="red")
    assert redness(without) < redness(plain) - 10


def test_unknown_words_still_make_a_deterministic_picture(local: LocalProvider) -> None:
    first = render(local, "axolotl quantum jar")
    assert first == render(local, "axolotl quantum jar")
    assert pixels(first).std() > 10  # a picture, not a flat fill
    assert apart(first, render(local, "zeppelin marmalade orchestra")) > 3


def test_the_style_param_overrides_the_prompt(local: LocalProvider) -> None:
    plain = render(local, "a house on a hill")
    drawn = render(local, "a house on a hill", params={"style": "sketch"})
    assert pixels(drawn).std(axis=2).mean() < 5  # pencil on paper: almost no colour
    assert apart(plain, drawn) > 10


# --- image to image --------------------------------------------------------------------------


def test_img2img_follows_the_init_image(local: LocalProvider) -> None:
    init = Image.new("RGB", (SIZE, SIZE), (0, 0, 0))
    init.paste((255, 255, 255), (0, 0, SIZE // 2, SIZE))
    buffer = io.BytesIO()
    init.save(buffer, "PNG")
    target = np.asarray(init.convert("L"), dtype=np.float32).ravel()

    def likeness(**fields: Any) -> float:
        grey = pixels(render(local, "a red car in a city", **fields)).mean(axis=2).ravel()
        return float(np.corrcoef(grey, target)[0, 1])

    assert likeness(init_image=buffer.getvalue()) > 0.6
    assert likeness(init_image=buffer.getvalue(), strength=1.0) < 0.4
    assert likeness() < 0.4


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"width": 100, "height": 100},
        {"width": 4096},
        {"n": 9},
        {"params": {"unknown": 1}},
        {"params": {"style": "vaporwave"}},
        {"model": "dall-e"},
        {"version": "3"},
        {"seed": -1},
        {"steps": 30},
        {"sampler": "euler"},
        {"strength": 0.5},
        {"init_image": png((9, 9, 9)), "strength": 1.5},
        {"init_image": b"not an image"},
        {"prompt": "   "},
    ],
)
def test_invalid_requests_are_refused_before_rendering(
    local: LocalProvider, fields: dict[str, Any]
) -> None:
    prompt = fields.pop("prompt", "a cat")
    bad = ImageRequest(**({"model": "sketch", "version": None, "prompt": prompt} | fields))
    with pytest.raises(InvalidRequest):
        local.validate_image(bad)
    with pytest.raises(InvalidRequest):
        local.generate_image(bad)


def test_models_say_plainly_they_are_not_neural(local: LocalProvider) -> None:
    models = {m.name: m for m in local.models()}
    assert {m.kind for m in models.values()} == {"image", "text", "vision"}
    sketch = models["sketch"]
    assert sketch.versions == ("1", "2") and sketch.default_version == "2"
    assert sketch.image is not None and sketch.image.deterministic and sketch.image.max_n == 8
    assert "not a diffusion model" in sketch.description
    assert "not a language model" in models["prompt-writer"].description
    assert "does not recognise" in models["describe"].description


# --- text ------------------------------------------------------------------------------------


def complete(local: LocalProvider, text: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    messages = (Message("system", "You write prompts."), Message("user", text))
    result = local.complete(TextRequest("prompt-writer", None, messages, **fields))
    return result.text, dict(result.usage)


def test_the_writer_turns_a_korean_concept_into_an_english_prompt(local: LocalProvider) -> None:
    text, usage = complete(local, "강아지가 해변을 달리는 노을 풍경, 수채화", seed=3)
    for word in ("dog", "beach", "sunset", "watercolor"):
        assert word in text.lower()
    assert not any("가" <= ch <= "힣" for ch in text)
    # Usage counts words: all six of the concept and three of the system message.
    assert usage == {"input_tokens": 9, "output_tokens": len(text.split())}
    assert complete(local, "강아지가 해변을 달리는 노을 풍경, 수채화", seed=3)[0] == text


def test_the_writer_keeps_english_words_it_does_not_know(local: LocalProvider) -> None:
    text, _ = complete(local, "an axolotl in a tiny jar, pixel art")
    assert "axolotl" in text.lower() and "pixel art" in text


def test_the_writer_respects_max_tokens(local: LocalProvider) -> None:
    text, usage = complete(local, "a cat at night", max_tokens=5)
    assert len(text.split()) == 5 == usage["output_tokens"]


def test_the_writer_needs_a_user_message(local: LocalProvider) -> None:
    only_system = (Message("system", "hello"),)
    with pytest.raises(InvalidRequest):
        local.complete(TextRequest("prompt-writer", None, only_system))
    with pytest.raises(InvalidRequest):
        local.complete(TextRequest("gpt-4o", None, (Message("user", "a cat"),)))


# --- vision ----------------------------------------------------------------------------------


def describe(local: LocalProvider, data: bytes) -> str:
    return local.describe(VisionRequest("describe", None, data, "image/png", "What is this?")).text


def test_vision_names_the_dominant_colour(local: LocalProvider) -> None:
    image = Image.new("RGB", (300, 200), (210, 30, 35))
    image.paste((245, 245, 245), (0, 0, 300, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    text = describe(local, buffer.getvalue())
    assert "300x200 landscape" in text
    assert text.split("Dominant colours: ")[1].startswith("red (80%)")
    assert "white (20%)" in text
    assert "does not recognise objects" in text


def test_vision_tells_night_from_day(local: LocalProvider) -> None:
    assert "dark overall" in describe(local, render(local, "밤하늘 아래 고양이"))
    assert "bright overall" in describe(local, render(local, "sunny beach at noon", version="1"))


@pytest.mark.parametrize("data", [b"", b"GIF89a-not-really", png((1, 2, 3))[:60]])
def test_vision_refuses_what_is_not_an_image(local: LocalProvider, data: bytes) -> None:
    with pytest.raises(InvalidRequest):
        describe(local, data)
