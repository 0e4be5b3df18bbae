"""`promptcanvas import` as a real process: killed with SIGKILL (or stopped with Ctrl-C) in the
middle of a folder, then run again, it finishes with every file imported exactly once and no
worker process left behind.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from promptcanvas.services.outputs import a1111_parameters, embed_png_text
from tests.e2e.procs import Spawned, library_env, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals"),
]

FILES = 900
PROMPTS = 150  # six images per prompt, as a tool's batch of six


def image(i: int) -> bytes:
    """A distinct 96x96 PNG with AUTOMATIC1111 parameters; image i belongs to prompt i % 150."""
    tile = Image.new("RGB", (96, 96), (i % 256, (i * 7) % 256, (i * 13) % 256))
    tile.putpixel((i % 96, (i // 96) % 96), (255, 255, 255))
    out = io.BytesIO()
    tile.save(out, "PNG")
    text = a1111_parameters(
        prompt=f"prompt number {i % PROMPTS}, 고양이, watercolor",
        negative_prompt="lowres",
        settings=[
            ("Steps", 20),
            ("Sampler", "Euler a"),
            ("CFG scale", 7),
            ("Seed", i),
            ("Size", "96x96"),
            ("Model", "sd15"),
        ],
    )
    return embed_png_text(out.getvalue(), [("parameters", text)])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    top = tmp_path / "outputs"
    for i in range(FILES):
        sub = top / f"day{i // 300}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:05d}.png").write_bytes(image(i))
    return top


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    eng = sa.create_engine(url)
    yield eng
    eng.dispose()


def count(engine: sa.Engine, sql: str) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar() or 0)
    except sa.exc.OperationalError:  # SQLite busy, or the table not created yet
        return 0


def descendants(pid: int) -> set[int]:
    """Pids of the processes below pid: children, theirs, and so on."""
    found = children(pid)
    for child in list(found):
        found |= descendants(child)
    return found


def children(pid: int) -> set[int]:
    """Pids of the processes whose parent is pid (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_import(tmp_path: Path, folder: Path, database_url: str) -> Spawned:
    env = library_env(tmp_path / "data", {"PROMPTCANVAS_DATABASE_URL": database_url})
    proc = Spawned(
        [sys.executable, "-m", "promptcanvas", "import", str(folder), "--json"],
        env=env,
        cwd=tmp_path,
        log_path=tmp_path / "import.log",
    )
    proc.spawn()
    return proc


def assert_each_file_once(engine: sa.Engine) -> None:
    assert count(engine, "SELECT count(*) FROM import_files WHERE state = 'imported'") == FILES
    assert count(engine, "SELECT count(*) FROM generations") == FILES
    assert count(engine, "SELECT count(*) FROM assets") == FILES
    assert count(engine, "SELECT count(*) FROM generation_assets") == FILES
    assert count(engine, "SELECT count(DISTINCT asset_id) FROM generation_assets") == FILES
    assert count(engine, "SELECT count(*) FROM prompts") == PROMPTS
    assert count(engine, "SELECT count(DISTINCT text) FROM prompts") == PROMPTS
    assert count(engine, "SELECT sum(output_count) FROM prompts") == FILES


def wait_until(what: str, ready: object, proc: Spawned, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        assert proc.proc is not None
        if proc.proc.poll() is not None:
            pytest.fail(f"the import exited before {what}:\n{proc.log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{proc.log()}")
        time.sleep(0.02)


def test_kill_9_mid_import_then_rerun_imports_every_file_once(
    tmp_path: Path, folder: Path, database_url: str, engine: sa.Engine
) -> None:
    run_cli(
        tmp_path / "data", "users", "add", "admin", env={"PROMPTCANVAS_DATABASE_URL": database_url}
    )
    proc = start_import(tmp_path, folder, database_url)
    try:
        wait_until(
            "the first chunks were recorded",
            lambda: count(engine, "SELECT count(*) FROM import_files") >= 200,
            proc,
        )
        workers = descendants(proc.pid)  # the fork server and its workers, the tracker
        assert len(workers) >= 3, "a large import loads files in worker processes"
        done_before = count(engine, "SELECT count(*) FROM import_files")
        proc.kill()  # SIGKILL: no handler runs, like a power cut
    finally:
        proc.stop()
    assert done_before < FILES, "the import finished before it could be killed"
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "worker processes outlived the import"
    recorded = count(engine, "SELECT count(*) FROM import_files")
    # Every recorded file has its generation: they were written in one transaction.
    assert count(engine, "SELECT count(*) FROM generations") == recorded

    again = run_cli(
        tmp_path / "data",
        "import",
        str(folder),
        "--json",
        env={"PROMPTCANVAS_DATABASE_URL": database_url},
    )
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["skipped_unchanged"] == recorded
    assert summary["imported"] == FILES - recorded
    assert summary["failed"] == 0
    assert_each_file_once(engine)


def test_ctrl_c_stops_with_a_summary_and_the_next_run_resumes(
    tmp_path: Path, folder: Path, database_url: str, engine: sa.Engine
) -> None:
    run_cli(
        tmp_path / "data", "users", "add", "admin", env={"PROMPTCANVAS_DATABASE_URL": database_url}
    )
    proc = start_import(tmp_path, folder, database_url)
    try:
        wait_until(
            "the first chunk was recorded",
            lambda: count(engine, "SELECT count(*) FROM import_files") >= 100,
            proc,
        )
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGINT)
        code = proc.proc.wait(timeout=60)
    finally:
        proc.stop()
    output = proc.log(None)
    assert code == 130, output
    stopped = json.loads(output[output.index("{") : output.rindex("}") + 1])
    assert stopped["interrupted"] is True
    assert 0 < stopped["imported"] < FILES

    again = run_cli(
        tmp_path / "data",
        "import",
        str(folder),
        "--json",
        env={"PROMPTCANVAS_DATABASE_URL": database_url},
    )
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["imported"] + summary["skipped_unchanged"] == FILES
    assert_each_file_once(engine)
