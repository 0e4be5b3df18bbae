"""/api/v1/assets: uploads are verified, stored once, downloadable, attachable, and owned."""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from promptcanvas.adapters.db.tables import assets, generations
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.settings import Settings
from tests import factories
from tests.conftest import Api, make_api

MiB = 1024 * 1024
KINDS = {
    "png": (factories.png(64, 48), "image/png", 64, 48),
    "jpeg": (factories.jpeg(80, 40), "image/jpeg", 80, 40),
    "webp": (factories.webp(32, 32), "image/webp", 32, 32),
}


# --- helpers ----------------------------------------------------------------------------------


def stored_keys(container: Container) -> set[str]:
    """Every blob and thumbnail in the file store."""
    return {info.key for prefix in ("blobs/", "thumbs/") for info in container.storage.list(prefix)}


def blob_count(container: Container) -> int:
    return sum(1 for _ in container.storage.list("blobs/"))


def row_counts(container: Container) -> tuple[int, int]:
    """(assets, generations) rows in the database."""
    with container.db.engine.connect() as conn:
        counted = [
            conn.scalar(sa.select(sa.func.count()).select_from(table))
            for table in (assets, generations)
        ]
    return counted[0] or 0, counted[1] or 0


@contextmanager
def nothing_stored(container: Container) -> Iterator[None]:
    """Assert the block adds no file, no asset row and no generation."""
    before = stored_keys(container), row_counts(container)
    yield
    assert (stored_keys(container), row_counts(container)) == before


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The {"error": {...}} body of a response that must have this status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def noise_png(width: int, height: int, seed: int = 1) -> bytes:
    """A PNG that does not compress (random pixels), so its size is about 3 bytes per pixel."""
    pixels = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def outputs_of(api: Api, prompt_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/prompts/{prompt_id}")
    assert response.status_code == 200, response.text
    return response.json()["outputs"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def png_over_10_mb() -> bytes:
    """A real, valid PNG just over the default 10 MiB limit (and under the body cap)."""
    data = noise_png(1880, 1880)
    assert 10 * MiB < len(data) < 11 * MiB
    return data


@pytest.fixture
def api_with_limit(settings: Settings) -> Iterator[Callable[[int], tuple[Container, Api]]]:
    """Build an app whose upload limit is lowered to the given number of bytes."""
    with ExitStack() as stack:

        def make(limit: int) -> tuple[Container, Api]:
            container = bootstrap(settings.model_copy(update={"max_upload_bytes": limit}))
            stack.callback(container.close)
            client = stack.enter_context(TestClient(create_app(container)))
            return container, make_api(container, client, "carol")

        yield make


# --- upload, dedupe, download -----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_upload_returns_what_was_stored(alice: Api, kind: str) -> None:
    data, media_type, width, height = KINDS[kind]

    response = alice.upload(data, filename=f"photo.{kind}")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["media_type"], body["width"], body["height"]) == (media_type, width, height)
    assert body["size"] == len(data)
    assert body["original_name"] == f"photo.{kind}"
    assert body["url"] == f"/api/v1/assets/{body['id']}/content"
    assert body["thumbnail_url"] == f"/api/v1/assets/{body['id']}/thumbnail"
    assert body["created"] is True
    assert body["generation_id"] is None
    metadata = alice.get(f"/api/v1/assets/{body['id']}")
    assert metadata.status_code == 200
    assert metadata.json() == {
        k: v for k, v in body.items() if k not in ("created", "generation_id")
    }


def test_the_same_bytes_are_stored_once(alice: Api, container: Container) -> None:
    data = factories.png(color=(1, 2, 3))
    first = alice.upload(data, filename="a.png")
    second = alice.upload(data, filename="renamed.png")

    assert first.status_code == 201, first.text
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["created"] is False
    assert blob_count(container) == 1
    assert len(stored_keys(container)) == 2  # one blob, one thumbnail
    assert row_counts(container) == (1, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_content_download_returns_the_exact_bytes(alice: Api, kind: str) -> None:
    data, media_type, _, _ = KINDS[kind]
    asset = alice.upload(data).json()

    response = alice.get(asset["url"])

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == media_type
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["x-content-type-options"] == "nosniff"


def test_thumbnail_is_a_webp_that_fits_the_configured_box(alice: Api, settings: Settings) -> None:
    asset = alice.upload(factories.png(600, 300)).json()

    response = alice.get(asset["thumbnail_url"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (settings.thumbnail_size, settings.thumbnail_size // 2)


@pytest.mark.parametrize("which", ["url", "thumbnail_url"])
def test_etag_lets_a_browser_reuse_its_copy(alice: Api, which: str) -> None:
    asset = alice.upload(factories.png()).json()
    first = alice.get(asset[which])
    etag = first.headers["etag"]
    assert asset["sha256"] in etag

    again = alice.get(asset[which], headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    listed = alice.get(asset[which], headers={"If-None-Match": f'"stale", W/{etag}'})
    assert listed.status_code == 304

    stale = alice.get(asset[which], headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.content == first.content


def test_content_and_thumbnail_have_different_etags(alice: Api) -> None:
    asset = alice.upload(factories.png()).json()
    content_tag = alice.get(asset["url"]).headers["etag"]
    thumb = alice.get(asset["thumbnail_url"], headers={"If-None-Match": content_tag})
    assert thumb.status_code == 200
    assert thumb.headers["etag"] != content_tag


def test_exif_orientation_is_honoured(alice: Api) -> None:
    asset = alice.upload(factories.jpeg(80, 40, orientation=6), filename="phone.jpg").json()

    assert (asset["width"], asset["height"]) == (40, 80)
    with Image.open(io.BytesIO(alice.get(asset["thumbnail_url"]).content)) as thumb:
        assert thumb.width < thumb.height
    # The original bytes are kept as they were sent, orientation tag and all.
    assert alice.get(asset["url"]).content == factories.jpeg(80, 40, orientation=6)


def test_missing_and_malformed_asset_ids_are_404(alice: Api) -> None:
    for asset_id in ("0" * 26, "not-an-id", "x" * 300):
        for suffix in ("", "/content", "/thumbnail"):
            error_of(alice.get(f"/api/v1/assets/{asset_id}{suffix}"), 404)


def test_upload_needs_an_api_key(client: TestClient, container: Container) -> None:
    with nothing_stored(container):
        response = client.post("/api/v1/assets", files={"file": ("a.png", factories.png())})
        error_of(response, 401)


# --- attaching to a prompt --------------------------------------------------------------------


def test_upload_to_a_prompt_records_a_manual_generation(alice: Api) -> None:
    prompt = alice.create_prompt("a lighthouse at dusk")
    parameters = {"seed": 1234, "steps": 30, "cfg": 7.5, "sampler": "DPM++ 2M", "밤": True}

    response = alice.upload(
        factories.png(color=(5, 6, 7)),
        prompt_id=prompt["id"],
        model="sdxl",
        model_version="1.0",
        parameters=json_text(parameters),
    )

    assert response.status_code == 201, response.text
    asset = response.json()
    [output] = outputs_of(alice, prompt["id"])
    assert output["id"] == asset["generation_id"]
    assert output["provider"] == "manual"
    assert (output["model"], output["model_version"]) == ("sdxl", "1.0")
    assert output["parameters"] == parameters
    assert output["seed"] == 1234
    assert output["status"] == "SUCCESS"
    assert [a["id"] for a in output["assets"]] == [asset["id"]]
    assert alice.get(f"/api/v1/prompts/{prompt['id']}").json()["output_count"] == 1


def test_seed_is_only_taken_from_an_integer(alice: Api) -> None:
    prompt = alice.create_prompt()
    for i, seed in enumerate(["42", 4.5, True, 2**70, None]):
        r = alice.upload(
            factories.png(color=(i, 0, 0)),
            prompt_id=prompt["id"],
            parameters=json_text({"seed": seed}),
        )
        assert r.status_code == 201, r.text
    outputs = outputs_of(alice, prompt["id"])
    assert [o["seed"] for o in outputs] == [None] * 5
    assert outputs[3]["parameters"] == {"seed": 2**70}


def test_the_same_file_on_the_same_prompt_is_one_generation(
    alice: Api, container: Container
) -> None:
    prompt = alice.create_prompt()
    data = factories.png(color=(9, 8, 7))
    first = alice.upload(data, prompt_id=prompt["id"], model="sdxl")
    second = alice.upload(data, prompt_id=prompt["id"], model="sdxl")

    assert first.status_code == 201, first.text
    assert second.status_code == 200, second.text
    assert second.json()["generation_id"] == first.json()["generation_id"]
    assert len(outputs_of(alice, prompt["id"])) == 1
    assert alice.get(f"/api/v1/prompts/{prompt['id']}").json()["output_count"] == 1
    assert row_counts(container) == (1, 1)


def test_one_file_can_be_an_output_of_two_prompts(alice: Api, container: Container) -> None:
    first, second = alice.create_prompt("first"), alice.create_prompt("second")
    data = factories.png(color=(4, 4, 4))
    asset = alice.upload(data, prompt_id=first["id"]).json()
    again = alice.upload(data, prompt_id=second["id"])

    assert again.status_code == 200
    assert again.json()["id"] == asset["id"]
    for prompt in (first, second):
        [output] = outputs_of(alice, prompt["id"])
        assert [a["id"] for a in output["assets"]] == [asset["id"]]
    assert blob_count(container) == 1


def test_a_prompt_with_an_output_keeps_its_wording_but_not_its_tags(alice: Api) -> None:
    prompt = alice.create_prompt("a quiet harbour", tags=["sea"])
    assert alice.upload(factories.png(), prompt_id=prompt["id"]).status_code == 201

    refused = alice.patch(f"/api/v1/prompts/{prompt['id']}", json={"text": "a loud harbour"})
    error = error_of(refused, 409)
    assert "revision" in error["message"]

    retagged = alice.patch(f"/api/v1/prompts/{prompt['id']}", json={"tags": ["sea", "night"]})
    assert retagged.status_code == 200, retagged.text
    current = alice.get(f"/api/v1/prompts/{prompt['id']}").json()
    assert current["text"] == "a quiet harbour"
    assert sorted(current["tags"]) == ["night", "sea"]


# --- bad uploads: a 4xx with the error shape, and nothing stored ------------------------------


def test_file_over_the_default_10_mb_limit_is_refused(
    alice: Api, container: Container, png_over_10_mb: bytes
) -> None:
    with nothing_stored(container):
        error = error_of(alice.upload(png_over_10_mb, filename="big.png"), 413)
    assert "10,485,760" in error["message"]


def test_body_far_over_the_limit_is_refused_before_it_is_read(
    alice: Api, container: Container
) -> None:
    with nothing_stored(container):
        error_of(alice.upload(random.Random(2).randbytes(12 * MiB), filename="big.png"), 413)


def test_a_lowered_limit_is_enforced_to_the_byte(
    api_with_limit: Callable[[int], tuple[Container, Api]],
) -> None:
    data = noise_png(60, 60)
    container, carol = api_with_limit(len(data))
    with nothing_stored(container):
        error = error_of(carol.upload(noise_png(60, 60, seed=2) + b"\0"), 413)
    assert error["details"]["limit"] == len(data)
    assert carol.upload(data).status_code == 201


def test_a_lowered_limit_also_caps_the_request_body(
    api_with_limit: Callable[[int], tuple[Container, Api]],
) -> None:
    container, carol = api_with_limit(1000)
    with nothing_stored(container):
        error_of(carol.upload(noise_png(800, 800)), 413)


@pytest.mark.parametrize(
    ("data", "filename", "status", "says"),
    [
        (b"hello, I am only text\n", "notes.png", 415, "PNG, JPEG or WebP"),
        (factories.truncated_png(), "cut.png", 415, "truncated"),
        (factories.svg(), "logo.svg", 415, "SVG"),
        (factories.svg(), "logo.png", 415, "SVG"),
        (factories.gif(), "anim.gif", 415, "GIF"),
        (factories.huge_png(), "bomb.png", 413, "900,000,000"),
        (b"", "empty.png", 415, "empty"),
    ],
    ids=["text-named-png", "truncated-png", "svg", "svg-named-png", "gif", "bomb", "empty"],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    alice: Api, container: Container, data: bytes, filename: str, status: int, says: str
) -> None:
    prompt = alice.create_prompt()
    with nothing_stored(container):
        error = error_of(alice.upload(data, filename=filename, prompt_id=prompt["id"]), status)
    assert says in error["message"]
    assert error["details"]["field"] == "file"
    assert outputs_of(alice, prompt["id"]) == []


def test_missing_file_field_is_422_naming_it(alice: Api, container: Container) -> None:
    with nothing_stored(container):
        error = error_of(alice.post("/api/v1/assets", data={"model": "sdxl"}), 422)
        assert "file" in error["message"]
        assert [p["field"] for p in error["details"]] == ["file"]
        error_of(alice.post("/api/v1/assets", json={"file": "aGVsbG8="}), 422)


@pytest.mark.parametrize(
    "parameters",
    [
        "not json",
        "[1, 2, 3]",
        '"a string"',
        "42",
        '{"cfg": NaN}',
        '{"cfg": Infinity}',
        '{"name": "\\ud800"}',
        "[" * 60_000,
        '{"a": ' + "[" * 40 + "]" * 40 + "}",
        '{"pad": "' + "x" * 70_000 + '"}',
    ],
    ids=[
        "text",
        "list",
        "string",
        "number",
        "nan",
        "infinity",
        "lone-surrogate",
        "unparseably-deep",
        "too-deep",
        "big",
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    alice: Api, container: Container, parameters: str
) -> None:
    prompt = alice.create_prompt()
    with nothing_stored(container):
        response = alice.upload(factories.png(), prompt_id=prompt["id"], parameters=parameters)
        error = error_of(response, 422)
    assert "parameters" in error["message"]
    assert error["details"]["field"] == "parameters"


def test_unusual_but_valid_parameters_round_trip(alice: Api) -> None:
    prompt = alice.create_prompt()
    parameters = {
        "prompt": "눈 내리는 산타마을 🎅",
        "nested": {"list": [1, 2.5, None, True, {"deep": [[[]]]}]},
        "big": 2**80,
        "quote": 'say "hi" \\ there',
        "control": "tab\tnewline\n nul\u0000",
    }
    response = alice.upload(
        factories.png(), prompt_id=prompt["id"], parameters=json_text(parameters)
    )
    assert response.status_code == 201, response.text
    [output] = outputs_of(alice, prompt["id"])
    assert output["parameters"] == parameters


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"model": "m" * 201}, "model"),
        ({"model_version": "v" * 101}, "model_version"),
        ({"model": "sd\x00xl"}, "model"),
        ({"prompt_id": "p" * 65}, "prompt_id"),
        ({"prompt_id": "   "}, "prompt_id"),
    ],
    ids=["long-model", "long-version", "control-model", "long-prompt-id", "blank-prompt-id"],
)
def test_bad_form_fields_are_422_naming_the_field(
    alice: Api, container: Container, form: dict[str, str], field: str
) -> None:
    with nothing_stored(container):
        error = error_of(alice.upload(factories.png(), **form), 422)
    assert field in error["message"]


def test_upload_to_someone_elses_or_a_missing_prompt_is_404(
    alice: Api, bob: Api, container: Container
) -> None:
    bobs = bob.create_prompt("bob's own prompt")
    data = factories.png(color=(77, 77, 77))  # bytes nobody stored yet
    with nothing_stored(container):
        for prompt_id in (bobs["id"], "0" * 26, "no-such-prompt"):
            error = error_of(alice.upload(data, prompt_id=prompt_id), 404)
            assert error["details"]["field"] == "prompt_id"
    assert outputs_of(bob, bobs["id"]) == []


def test_upload_to_a_trashed_prompt_is_409(alice: Api, container: Container) -> None:
    prompt = alice.create_prompt()
    assert alice.delete(f"/api/v1/prompts/{prompt['id']}").status_code in (200, 204)
    with nothing_stored(container):
        error = error_of(alice.upload(factories.png(), prompt_id=prompt["id"]), 409)
    assert "trash" in error["message"]


# --- ownership --------------------------------------------------------------------------------


def test_another_user_cannot_see_an_asset(alice: Api, bob: Api) -> None:
    asset = alice.upload(factories.png()).json()
    etag = alice.get(asset["url"]).headers["etag"]
    for url in (f"/api/v1/assets/{asset['id']}", asset["url"], asset["thumbnail_url"]):
        error = error_of(bob.get(url), 404)
        assert asset["sha256"] not in str(error)
        # Knowing the ETag is no way in either.
        error_of(bob.get(url, headers={"If-None-Match": etag}), 404)


def test_the_same_bytes_from_another_user_are_their_own_asset(
    alice: Api, bob: Api, container: Container
) -> None:
    data = factories.png(color=(3, 1, 4))
    alices = alice.upload(data).json()

    response = bob.upload(data)

    assert response.status_code == 201, response.text
    bobs = response.json()
    assert bobs["id"] != alices["id"]
    assert bobs["created"] is True
    assert bobs["sha256"] == alices["sha256"]
    assert blob_count(container) == 1
    assert bob.get(bobs["url"]).content == data
    error_of(bob.get(alices["url"]), 404)
    assert alice.get(alices["url"]).content == data
