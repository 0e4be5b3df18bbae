"""`promptcanvas export --project P --format zip`: what a user finds in the archive."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.services.exporting import ProjectExporter
from promptcanvas.services.generate import GenerationRequest
from tests.cli import Cli
from tests.jobs import add_fake, drain
from tests.peers import sd_parse

FIXTURES = Path("/work/shared/fixtures/metadata")


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return Cli(tmp_path / "data", database_url)


def build_library(c: Container) -> dict[str, Any]:
    """Project "Night cats" with generated outputs and an upload; one prompt elsewhere, one
    in the trash."""
    owner = c.users.ensure_admin()[0].id
    project = c.projects.create_project(owner, "Night cats")
    other = c.projects.create_project(owner, "Other")
    add_fake(c)
    cat = c.library.create_prompt(
        owner,
        text="밤하늘 아래 고양이, 夜空の猫",
        negative_text="=HYPERLINK(1)",
        project_id=project.id,
    )
    fox = c.library.create_prompt(owner, text='a fox, "quoted"', project_id=project.id)
    c.library.create_prompt(owner, text="not in this project", project_id=other.id)
    trashed = c.library.create_prompt(owner, text="trashed", project_id=project.id)
    c.library.trash_prompt(owner, trashed.id)
    for prompt, n, seed in ((cat, 2, 11), (fox, 1, 5)):
        c.generations.submit(
            owner,
            GenerationRequest(
                provider="fake",
                model="toy",
                model_version="2",
                prompt_id=prompt.id,
                params={"steps": 9},
                seed=seed,
                n=n,
            ),
        )
    assert drain(c) == 2
    upload = (FIXTURES / "a1111.png").read_bytes()
    c.assets.upload(owner, upload, filename="duck.png", prompt_id=fox.id, provider="manual")
    return {"cat": cat, "fox": fox, "upload": upload}


def test_export_writes_images_manifest_and_csv(cli: Cli, tmp_path: Path) -> None:
    c = bootstrap(cli.settings())
    try:
        made = build_library(c)
    finally:
        c.close()
    target = tmp_path / "out" / "night.zip"
    target.parent.mkdir()
    summary = cli.json(
        "export", "--project", "Night cats", "--format", "zip", "--output", str(target)
    )
    assert summary["files"] == 4 and summary["generations"] == 3 + 1 and summary["prompts"] == 2
    assert not target.with_name("night.zip.partial").exists()

    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        table = list(csv.DictReader(io.StringIO(archive.read("prompts.csv").decode("utf-8-sig"))))
        files = {name: archive.read(name) for name in names if name.startswith("images/")}
    assert names == {"manifest.json", "prompts.csv", *files}
    assert manifest["project"]["name"] == "Night cats"
    assert [p["text"] for p in manifest["prompts"]] == [made["cat"].text, made["fox"].text]
    assert manifest["prompts"][0]["negative_text"] == "=HYPERLINK(1)"  # exact in the manifest
    listed = {f["name"]: f for g in manifest["generations"] for f in g["files"]}
    assert set(listed) == set(files)
    for name, data in files.items():
        assert hashlib.sha256(data).hexdigest() == listed[name]["sha256"]
        assert len(data) == listed[name]["size"]

    generated = [g for g in manifest["generations"] if g["provider"] == "fake"]
    assert sorted(g["seed"] for g in generated) == [5, 11, 12]
    for g in generated:
        (file,) = g["files"]
        data = files[file["name"]]
        Image.open(io.BytesIO(data)).load()
        info = sd_parse(data)
        assert info is not None
        text = made["cat"].text if g["prompt_id"] == made["cat"].id else made["fox"].text
        assert info.full_prompt == text
        assert info.samplers[0].parameters["seed"] == str(g["seed"])
        record = json.loads(Image.open(io.BytesIO(data)).info["promptcanvas"])
        assert record["generation_id"] == g["id"] and record["parameters"]["steps"] == 9
    (manual,) = [g for g in manifest["generations"] if g["provider"] == "manual"]
    assert files[manual["files"][0]["name"]] == made["upload"]  # someone else's file, untouched

    assert len(table) == 4
    assert list(table[0]) == [
        "prompt",
        "negative",
        "provider",
        "model",
        "version",
        "seed",
        "parameters",
        "file",
        "generation_id",
        "prompt_id",
        "status",
        "created_at",
    ]
    cat_rows = [r for r in table if r["prompt_id"] == made["cat"].id]
    assert len(cat_rows) == 2 and cat_rows[0]["prompt"] == made["cat"].text
    assert cat_rows[0]["negative"] == "'=HYPERLINK(1)"  # shown as text, not run, by spreadsheets
    assert json.loads(cat_rows[0]["parameters"])["steps"] == 9
    assert all(r["file"] in files for r in table)


def test_unknown_project_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    cli("users", "add", "someone")
    out = tmp_path / "x.zip"
    result = cli("export", "--project", "Nope", "--output", str(out), code=1)
    assert "no project named 'Nope'" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists() and not Path(f"{out}.partial").exists()


def test_existing_file_needs_force_and_format_must_be_zip(cli: Cli, tmp_path: Path) -> None:
    cli("prompts", "add", "a prompt", "--project", "P")
    out = tmp_path / "p.zip"
    out.write_bytes(b"keep me")
    assert "exists" in cli("export", "--project", "P", "--output", str(out), code=1).stderr
    assert out.read_bytes() == b"keep me"
    cli("export", "--project", "P", "--output", str(out), "--force")
    assert zipfile.ZipFile(out).namelist() == ["manifest.json", "prompts.csv"]
    assert "zip" in cli("export", "--project", "P", "--format", "tar", code=2).output


def test_default_output_is_named_after_the_project(cli: Cli, tmp_path: Path) -> None:
    cli("prompts", "add", "a prompt", "--project", "봄/여름: 2025")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        summary = cli.json("export", "--project", "봄/여름: 2025")
    finally:
        os.chdir(cwd)
    assert summary["file"] == "봄_여름_ 2025.zip"
    assert (tmp_path / "봄_여름_ 2025.zip").is_file()


def _noise_png() -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(out, "PNG")
    return out.getvalue()  # about 120 KB that no compressor can shrink


def _peak(exporter: ProjectExporter, owner: str, project: Any) -> tuple[int, int]:
    sink = _Discard()
    tracemalloc.start()
    try:
        exporter.export_zip(owner, project, sink)
        return tracemalloc.get_traced_memory()[1], sink.count
    finally:
        tracemalloc.stop()


def test_export_streams_images_instead_of_holding_them(settings: Any) -> None:
    """Peak memory does not grow with the number of images exported."""
    c = bootstrap(settings)
    try:
        owner = c.users.ensure_admin()[0].id
        project = c.projects.create_project(owner, "Big")
        exporter = ProjectExporter(c.library, c.projects, c.assets, c.clock)

        def add(count: int) -> None:
            for _ in range(count):
                prompt = c.library.create_prompt(owner, text="noise", project_id=project.id)
                c.assets.upload(owner, _noise_png(), prompt_id=prompt.id)

        add(4)
        _peak(exporter, owner, project)  # first run: imports and caches, not measured
        small, before = _peak(exporter, owner, project)
        add(28)
        large, after = _peak(exporter, owner, project)
    finally:
        c.close()
    added = after - before
    assert added > 28 * 100_000
    # Held images would add all their bytes to the peak; streamed ones add only their
    # manifest entries and CSV rows (a few KB each).
    assert large - small < added / 10, (small, large, added)


class _Discard(io.RawIOBase):
    """A write-only, non-seekable sink that keeps only a byte count (like a pipe)."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.count += len(b)
        return len(b)


def test_another_users_project_is_not_found(cli: Cli) -> None:
    cli("prompts", "add", "mine", "--project", "Mine")
    cli("users", "add", "bob")
    out = str(cli.data_dir / "m.zip")
    refused = cli("export", "--project", "Mine", "--user", "bob", "--output", out, code=1)
    assert "no project named 'Mine'" in refused.stderr
    assert cli.json("export", "--project", "Mine", "--output", out)["prompts"] == 1
