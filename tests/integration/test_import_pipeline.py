"""The import pipeline's fast paths: worker processes that load and store files themselves,
chunks loaded while earlier ones are recorded, and prompts inserted a chunk at a time.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from promptcanvas.adapters.db.tables import assets, generation_assets, generations, prompts
from promptcanvas.bootstrap import Container
from promptcanvas.services.import_load import Thumbnailer
from promptcanvas.services.import_scan import FolderSource, ZipLimits, ZipSource
from promptcanvas.services.importing import POOL_MIN_FILES, ImportOptions
from promptcanvas.services.library import SearchRequest
from promptcanvas.services.outputs import a1111_parameters, embed_png_text

FILES = POOL_MIN_FILES + 10  # enough for worker processes to load the files
PER_PROMPT = 3


def picture(i: int, size: int = 24) -> bytes:
    """A distinct small PNG of one colour, with AUTOMATIC1111 parameters naming its prompt."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour(i)).save(out, "PNG")
    text = a1111_parameters(
        prompt=f"lighthouse number {i // PER_PROMPT}, 등대, oil painting",
        negative_prompt="blurry",
        settings=[("Steps", 20), ("Seed", 1000 + i), ("Size", f"{size}x{size}")],
    )
    return embed_png_text(out.getvalue(), [("parameters", text)])


def colour(i: int) -> tuple[int, int, int]:
    return (i % 251, (i * 7) % 251, (i * 13) % 251)


def centre_colour(data: bytes) -> tuple[int, ...]:
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        return tuple(rgb.getpixel((rgb.width // 2, rgb.height // 2)))  # type: ignore[arg-type]


def close(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(x - y) <= 6 for x, y in zip(a, b, strict=True))  # lossy WebP


def outputs(tmp_path: Path, count: int) -> Path:
    """A tool's output folder of `count` distinct pictures, 0000.png onwards."""
    folder = tmp_path / "outputs"
    folder.mkdir()
    for i in range(count):
        (folder / f"{i:04d}.png").write_bytes(picture(i))
    return folder


def assert_each_file_linked_with_a_true_thumbnail(container: Container, owner: str) -> None:
    """Every picture i is an asset of prompt i // PER_PROMPT, with a thumbnail of its colour."""
    query = (
        sa.select(assets.c.original_name, assets.c.thumbnail_key, prompts.c.text, prompts.c.tags)
        .join(generation_assets, generation_assets.c.asset_id == assets.c.id)
        .join(generations, generations.c.id == generation_assets.c.generation_id)
        .join(prompts, prompts.c.id == generations.c.prompt_id)
        .where(assets.c.owner_id == owner)
    )
    with container.db.engine.connect() as conn:
        rows = conn.execute(query).all()
        prompt_count = conn.execute(
            sa.select(sa.func.count()).select_from(prompts).where(prompts.c.owner_id == owner)
        ).scalar_one()
    assert len(rows) == FILES
    assert prompt_count == -(-FILES // PER_PROMPT)
    for name, thumb_key, text, tags in rows:
        i = int(name.split(".")[0])
        assert text == f"lighthouse number {i // PER_PROMPT}, 등대, oil painting", name
        assert "imported" in tags
        with container.storage.open(thumb_key) as stream:
            assert close(centre_colour(stream.read()), colour(i)), name


def test_a_big_import_links_every_file_to_its_own_prompt_with_a_true_thumbnail(
    container: Container, tmp_path: Path
) -> None:
    folder = outputs(tmp_path, FILES)
    owner = container.users.ensure_admin()[0].id

    summary = container.importer.run(owner, FolderSource(folder), ImportOptions())

    assert (summary.imported, summary.failed_total) == (FILES, 0)
    assert_each_file_linked_with_a_true_thumbnail(container, owner)

    # Prompts added a chunk at a time are in the search index, Korean words included.
    found = container.library.search(owner, SearchRequest(q="등대 number", limit=100))
    assert len(found.items) == 70
    seventh = container.library.search(owner, SearchRequest(q="lighthouse 등대 number 7"))
    assert [p.text for p in seventh.items] == ["lighthouse number 7, 등대, oil painting"]
    again = container.importer.run(owner, FolderSource(folder), ImportOptions())
    assert (again.imported, again.unchanged) == (0, FILES)


def test_a_big_zip_gets_its_thumbnails_from_worker_processes(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(FILES):
            z.writestr(f"outputs/{i:04d}.png", picture(i))
    archive.seek(0)
    pools: list[object] = []
    start_pool = Thumbnailer.start_pool

    def spy(self: Thumbnailer) -> None:
        start_pool(self)
        pools.append(self._pool)

    monkeypatch.setattr(Thumbnailer, "start_pool", spy)
    owner = container.users.ensure_admin()[0].id
    limits = ZipLimits(max_members=FILES, max_total_bytes=1 << 30, max_file_bytes=1 << 20)

    summary = container.importer.run(owner, ZipSource(archive, limits), ImportOptions())

    assert (summary.imported, summary.failed_total) == (FILES, 0)
    assert len(pools) == 1 and pools[0] is not None  # the thumbnails were made in workers
    assert_each_file_linked_with_a_true_thumbnail(container, owner)


def test_a_file_rewritten_during_the_import_keeps_a_thumbnail_of_the_bytes_stored(
    container: Container, tmp_path: Path
) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    path = folder / "0001.png"
    path.write_bytes(picture(1))
    owner = container.users.ensure_admin()[0].id
    source = FolderSource(folder)
    importer = container.importer
    options = ImportOptions()

    with importer.session(owner, source, options, expected=POOL_MIN_FILES) as run:
        assert run.loader is not None  # worker processes load the file
        read = run.read(list(source.entries()))
        path.write_bytes(picture(2))  # the tool overwrote the file meanwhile
        run.finish(run.prepare(read))
        run.drain()

    assert run.tally.imported == 1
    with container.db.engine.connect() as conn:
        sha, key, thumb_key = conn.execute(
            sa.select(assets.c.sha256, assets.c.storage_key, assets.c.thumbnail_key).where(
                assets.c.owner_id == owner
            )
        ).one()
    stored = container.storage.read(key)
    assert hashlib.sha256(stored).hexdigest() == sha  # whichever version was read
    assert stored in (picture(1), picture(2))
    with container.storage.open(thumb_key) as stream:
        assert close(centre_colour(stream.read()), centre_colour(stored))


def broken_png(i: int) -> bytes:
    """A PNG whose structure is whole but whose pixel data does not inflate."""
    data = bytearray(picture(i))
    at = data.index(b"IDAT") + 4
    data[at : at + 8] = b"\xff" * 8
    return bytes(data)


@pytest.mark.parametrize("thumbnails", [True, False])
def test_workers_store_each_file_and_only_files_that_pass(
    container: Container, tmp_path: Path, thumbnails: bool
) -> None:
    folder = outputs(tmp_path, FILES)
    (folder / "broken.png").write_bytes(broken_png(9999))
    (folder / "copy.png").write_bytes(picture(3))
    owner = container.users.ensure_admin()[0].id

    summary = container.importer.run(
        owner, FolderSource(folder), ImportOptions(thumbnails=thumbnails)
    )

    # Metadata only never decodes pixels: the broken file is whole, so it is imported.
    whole = FILES if thumbnails else FILES + 1
    assert (summary.imported, summary.duplicate) == (whole, 1)
    with container.db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(assets.c.sha256, assets.c.storage_key, assets.c.thumbnail_key).where(
                assets.c.owner_id == owner
            )
        ).all()
    assert len(rows) == whole
    for sha, key, thumb_key in rows:
        assert hashlib.sha256(container.storage.read(key)).hexdigest() == sha
        assert (thumb_key is not None) == thumbnails
    if thumbnails:  # its pixels fail: reported, and its bytes never stored
        assert summary.failed_total == 1
        broken_sha = hashlib.sha256(broken_png(9999)).hexdigest()
        assert not any(o.key.endswith(broken_sha) for o in container.storage.list("blobs/"))


def test_an_import_whose_worker_processes_are_killed_finishes_in_its_own_process(
    container: Container, tmp_path: Path
) -> None:
    folder = outputs(tmp_path, FILES)
    owner = container.users.ensure_admin()[0].id
    source = FolderSource(folder)
    entries = list(source.entries())

    with container.importer.session(owner, source, ImportOptions(), expected=FILES) as run:
        assert run.loader is not None
        run.process(entries[:100])  # the workers are up and have loaded a chunk
        for process in list(run.loader._pool._processes.values()):  # noqa: SLF001
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)  # as the OOM killer would
        run.process(entries[100:])
        run.drain()

    assert (run.tally.imported, run.tally.failed) == (FILES, {})
    again = container.importer.run(owner, source, ImportOptions())
    assert (again.imported, again.unchanged) == (0, FILES)


@pytest.mark.parametrize("workers", [True, False], ids=["workers", "in-process"])
def test_files_the_sweeper_takes_before_the_commit_are_put_back(
    container: Container, tmp_path: Path, workers: bool
) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "0001.png").write_bytes(picture(1))
    owner = container.users.ensure_admin()[0].id
    source = FolderSource(folder)
    expected = POOL_MIN_FILES if workers else 1

    with container.importer.session(owner, source, ImportOptions(), expected=expected) as run:
        assert (run.loader is not None) == workers
        batch = run.prepare(run.read(list(source.entries())))
        if batch.stored is not None:
            batch.stored.result()
        for info in list(container.storage.list()):  # an orphan sweep with no grace
            container.storage.delete(info.key)
        run.finish(batch)
        run.drain()

    with container.db.engine.connect() as conn:
        key, thumb_key = conn.execute(
            sa.select(assets.c.storage_key, assets.c.thumbnail_key).where(
                assets.c.owner_id == owner
            )
        ).one()
    assert container.storage.read(key) == picture(1)
    assert close(centre_colour(container.storage.read(thumb_key)), colour(1))
