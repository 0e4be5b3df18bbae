"""`promptcanvas import DIR`: folders of other tools' images become prompts with their outputs."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from promptcanvas.bootstrap import bootstrap
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.services.outputs import a1111_parameters, embed_png_text
from tests.cli import Cli
from tests.conftest import Api
from tests.factories import huge_png, png, truncated_png

FIXTURES = Path("/work/shared/fixtures/metadata")
DUCK = "photo of a duck"  # a1111.png, a1111.jpg and a1111_text_after_idat.png share it
NO_PROMPT = "(imported images without a prompt)"


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    """The CLI on a fresh library."""
    return Cli(tmp_path / "data", database_url)


@pytest.fixture
def admin(cli: Cli) -> Iterator[Api]:
    """The API over the library the CLI writes to, as the admin user imports run as."""
    cli("users", "add", "admin")
    container = bootstrap(cli.settings())
    try:
        with TestClient(create_app(container)) as client:
            yield make_api_for(container, client, "admin")
    finally:
        container.close()


def make_api_for(container: Any, client: TestClient, name: str) -> Api:
    user = container.users.get_by_name(name)
    return Api(client, container.users.create_key(name).secret, user.id)


def a1111_png(prompt: str, seed: int, color: tuple[int, int, int]) -> bytes:
    """A PNG with an AUTOMATIC1111 `parameters` chunk."""
    text = a1111_parameters(
        prompt=prompt,
        negative_prompt="blurry",
        settings=[
            ("Steps", 20),
            ("Sampler", "Euler a"),
            ("CFG scale", 7),
            ("Seed", seed),
            ("Size", "64x48"),
            ("Model hash", "abc123"),
            ("Model", "dreamshaper_8"),
        ],
    )
    return embed_png_text(png(64, 48, color), [("parameters", text)])


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder like a real one: several tools, no metadata, broken files, a copy, a text file."""
    top = tmp_path / "outputs"
    (top / "comfy" / "nested").mkdir(parents=True)
    for name in (
        "a1111.png",
        "a1111.jpg",
        "a1111_text_after_idat.png",
        "novelai.png",
        "none_plain.png",
        "none_plain.jpg",
        "none_garbage_after_iend.png",
        "bad_empty_file.png",
    ):
        shutil.copy(FIXTURES / name, top / name)
    shutil.copy(FIXTURES / "comfyui_img2img.png", top / "comfy" / "nested" / "img2img.png")
    shutil.copy(FIXTURES / "a1111.png", top / "comfy" / "copy_of_duck.png")  # same bytes
    (top / "notes.png").write_text("this is a text file named like an image\n")
    (top / "truncated.png").write_bytes(truncated_png())
    (top / "huge.png").write_bytes(huge_png(30_000, 30_000))
    (top / "prompts.txt").write_text("not an image, not named like one: ignored\n")
    (top / "no_suffix").write_bytes(png(20, 20, (1, 200, 3)))  # an image by content
    (top / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return top


def outputs(api: Api, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one prompt with this exact text, and its outputs."""
    found = [p for p in api.search(limit=200) if p["text"] == text]
    assert len(found) == 1, [p["text"] for p in api.search(limit=200)]
    detail = api.get(f"/api/v1/prompts/{found[0]['id']}").json()
    return found[0], detail["outputs"]


def test_folder_import_reads_each_tool_and_reports_bad_files(
    cli: Cli, admin: Api, mixed: Path
) -> None:
    summary = cli.json("import", str(mixed))
    assert summary["imported"] == 9
    assert summary["skipped_duplicate"] == 1  # comfy/copy_of_duck.png
    assert summary["failed_by_reason"] == {
        "empty file": 1,
        "not an image": 1,
        "too many pixels (the limit is 64,000,000)": 1,
        "truncated or corrupt": 1,
    }
    assert {f["file"] for f in summary["failures"]} == {
        "bad_empty_file.png",
        "notes.png",
        "huge.png",
        "truncated.png",
    }
    assert summary["ignored_not_images"] == 1  # prompts.txt; .DS_Store is hidden
    assert summary["found"] == 14

    # Three files with the same wording: one prompt, three outputs, each with its settings.
    duck, duck_outputs = outputs(admin, DUCK)
    assert duck["negative_text"] == "monochrome"
    assert "imported" in duck["tags"]
    assert len(duck_outputs) == 3
    for generation in duck_outputs:
        assert generation["provider"] == "AUTOMATIC1111"
        assert generation["status"] == "SUCCESS"
        assert generation["seed"] == 235284042
        assert generation["parameters"]["steps"] == 15
        assert generation["parameters"]["sampler"] == "UniPC"
    names = {g["assets"][0]["original_name"] for g in duck_outputs}
    assert names == {"a1111.png", "a1111.jpg", "a1111_text_after_idat.png"}
    from_png = next(g for g in duck_outputs if g["assets"][0]["original_name"] == "a1111.png")
    assert from_png["model"] == "realistic_realisticVisionV20_v20"
    assert from_png["model_version"] == "c0d1994c73"

    _, comfy = outputs(admin, "photograph of victorian woman with wings, sky clouds, meadow grass")
    assert comfy[0]["provider"] == "ComfyUI"
    assert comfy[0]["model"] == "v1-5-pruned-emaonly.ckpt"
    assert comfy[0]["parameters"]["denoise"] == 0.87
    assert comfy[0]["parameters"]["imported_from"] == "comfy/nested/img2img.png"

    # Images without metadata still show up, under one placeholder prompt.
    placeholder, unknown = outputs(admin, NO_PROMPT)
    assert "no-prompt" in placeholder["tags"]
    assert {g["provider"] for g in unknown} == {"import"}
    assert {g["assets"][0]["original_name"] for g in unknown} == {
        "none_plain.png",
        "none_plain.jpg",
        "none_garbage_after_iend.png",
        "no_suffix",
    }

    # Every imported image has its file and a thumbnail.
    formats: set[str] = set()
    for generation in duck_outputs + comfy + unknown:
        asset = generation["assets"][0]
        content = admin.get(asset["url"])
        assert content.status_code == 200
        assert content.headers["content-type"] == asset["media_type"]
        thumb = admin.get(asset["thumbnail_url"])
        assert thumb.status_code == 200
        # JPEG for opaque images, WebP for those with alpha; served as what they are.
        image = Image.open(io.BytesIO(thumb.content))
        assert thumb.headers["content-type"] == image.get_format_mimetype()
        assert image.format == ("WEBP" if image.mode == "RGBA" else "JPEG")
        formats.add(image.format)
    assert formats == {"JPEG", "WEBP"}  # the fixtures hold both kinds


def test_rerun_imports_nothing_new_and_finds_prompts_again(
    cli: Cli, admin: Api, mixed: Path
) -> None:
    first = cli.json("import", str(mixed))
    prompts_before = {p["id"] for p in admin.search(limit=200)}
    again = cli.json("import", str(mixed))
    assert again["imported"] == 0
    assert again["skipped_unchanged"] == first["imported"] + first["skipped_duplicate"]
    assert again["failed_by_reason"] == first["failed_by_reason"]  # still reported
    assert {p["id"] for p in admin.search(limit=200)} == prompts_before
    _, duck_outputs = outputs(admin, DUCK)
    assert len(duck_outputs) == 3

    # A touched file is read again, and found to be bytes already imported.
    os.utime(mixed / "a1111.png", ns=(time.time_ns(), time.time_ns()))
    touched = cli.json("import", str(mixed))
    assert (touched["imported"], touched["skipped_duplicate"]) == (0, 1)

    # New files with a wording imported before land on that same prompt.
    (mixed / "more").mkdir()
    (mixed / "more" / "duck2.png").write_bytes(
        embed_png_text(
            png(8, 8, (9, 9, 9)),
            [
                (
                    "parameters",
                    f"{DUCK}\nNegative prompt: monochrome\nSteps: 15, Sampler: UniPC, Seed: 7",
                )
            ],
        )
    )
    later = cli.json("import", str(mixed))
    assert later["imported"] == 1
    assert {p["id"] for p in admin.search(limit=200)} == prompts_before
    _, duck_outputs = outputs(admin, DUCK)
    assert len(duck_outputs) == 4


def test_same_wording_maps_to_one_prompt_including_one_made_by_hand(
    cli: Cli, admin: Api, tmp_path: Path
) -> None:
    mine = admin.create_prompt("a lighthouse at dusk, oil painting", negative_text="blurry")
    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(5):
        data = a1111_png("a lighthouse at dusk, oil painting", 100 + i, (i * 40, 10, 10))
        (folder / f"{i:05d}.png").write_bytes(data)
    # Same words, different negative prompt: a different prompt.
    (folder / "other.png").write_bytes(
        embed_png_text(png(8, 8), [("parameters", "a lighthouse at dusk, oil painting\nSteps: 4")])
    )
    summary = cli.json("import", str(folder), "--project", "Coast")
    assert summary["imported"] == 6
    matching = [p for p in admin.search(limit=200) if p["text"].startswith("a lighthouse")]
    assert len(matching) == 2
    detail = admin.get(f"/api/v1/prompts/{mine['id']}").json()
    assert sorted(g["seed"] for g in detail["outputs"]) == [100, 101, 102, 103, 104]
    assert {g["model"] for g in detail["outputs"]} == {"dreamshaper_8"}
    assert detail["project_id"] is None  # an existing prompt keeps its project
    other = next(p for p in matching if p["id"] != mine["id"])
    coast = admin.get("/api/v1/projects").json()
    project_ids = {p["id"] for p in coast["data"] if p["name"] == "Coast"}
    assert other["project_id"] in project_ids


def test_no_thumbnails_then_a_later_run_adds_them(cli: Cli, admin: Api, tmp_path: Path) -> None:
    folder = tmp_path / "fast"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.png").write_bytes(a1111_png("a red fox", i, (200, i * 50, 0)))
    quick = cli.json("import", str(folder), "--no-thumbnails")
    assert (quick["imported"], quick["thumbnails"]) == (3, False)
    _, made = outputs(admin, "a red fox")
    assert all(g["assets"][0]["thumbnail_url"] is None for g in made)
    later = cli.json("import", str(folder))
    assert (later["imported"], later["thumbnails_added"]) == (0, 3)
    _, made = outputs(admin, "a red fox")
    for generation in made:
        assert admin.get(generation["assets"][0]["thumbnail_url"]).status_code == 200


def test_plain_output_shows_a_summary_and_names_failed_files(cli: Cli, mixed: Path) -> None:
    cli("users", "add", "admin")
    result = cli("import", str(mixed))
    assert "imported" in result.stdout and " 9\n" in result.stdout
    assert "skipped (duplicate)" in result.stdout
    assert "failed: notes.png: not an image" in result.stderr
    assert "files/s" in result.stderr  # the progress bar's rate column
    missing = cli("import", str(mixed / "nope"), code=2)
    assert "does not exist" in missing.stderr


def test_watch_imports_a_file_once_it_is_completely_written(
    cli: Cli, admin: Api, tmp_path: Path
) -> None:
    folder = tmp_path / "live"
    folder.mkdir()
    (folder / "old.png").write_bytes(a1111_png("an old one", 1, (5, 5, 5)))
    cli.env["PROMPTCANVAS_IMPORT_WATCH_SECONDS"] = "0.1"
    cli.env["PROMPTCANVAS_IMPORT_SETTLE_SECONDS"] = "0.3"
    data = a1111_png("a brand new one", 2, (250, 250, 0))
    target = folder / "new.png"

    def write_slowly_then_stop() -> None:
        time.sleep(0.5)
        with target.open("wb") as out:  # a tool writing in two steps
            out.write(data[: len(data) // 2])
            out.flush()
            time.sleep(0.6)
            out.write(data[len(data) // 2 :])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(p["text"] == "a brand new one" for p in admin.search(limit=50)):
                break
            time.sleep(0.1)
        time.sleep(0.3)
        import _thread

        _thread.interrupt_main()  # Ctrl-C

    writer = threading.Thread(target=write_slowly_then_stop)
    writer.start()
    result = cli("import", str(folder), "--watch")
    writer.join()
    assert "Watching" in result.stdout
    assert "imported 1, duplicate 0, failed 0" in result.stdout
    assert "Stopped watching." in result.stdout
    _, made = outputs(admin, "a brand new one")
    assert len(made) == 1  # imported once, complete (not as a truncated half)
    assert made[0]["assets"][0]["size"] == len(data)
