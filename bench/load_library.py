"""The library a load test runs against: `promptcanvas serve` as its own process over a fresh,
seeded database (SQLite, or a new PostgreSQL database dropped afterwards), and the checks made
once the load has ended (jobs drained, counts that must add up, `promptcanvas doctor`).
"""

from __future__ import annotations

import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from PIL import Image

from bench.scratch import scratch_postgres
from promptcanvas.adapters.db.tables import assets, generation_assets, generations, jobs, prompts
from promptcanvas.bootstrap import bootstrap
from promptcanvas.settings import Settings

STARTUP_SECONDS = 60.0
USERS = 5
SEED_PROMPTS = 40  # per user

EN_WORDS = ["fox", "castle", "neon", "forest", "portrait", "ocean", "robot", "sunset", "cat"]
KO_WORDS = ["강아지", "고양이", "바다", "노을", "숲", "도시", "눈", "산", "우주"]
EN_TEXT = "a {a} and a {b} at {c}, cinematic light, detailed, 8k"
KO_TEXT = "{a}와 {b}이 있는 {c} 풍경, 따뜻한 색감, 수채화"


def free_port() -> int:
    """A port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def png(seed: int, size: int = 24) -> bytes:
    """A small PNG, different per seed."""
    rng = random.Random(seed)
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    image = Image.new("RGB", (size, size), colour)
    image.putpixel((seed % size, (seed // size) % size), (255 - colour[0], 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sentence(rng: random.Random, korean: bool) -> str:
    """A prompt text in English or Korean."""
    words = KO_WORDS if korean else EN_WORDS
    a, b, c = rng.sample(words, 3)
    return (KO_TEXT if korean else EN_TEXT).format(a=a, b=b, c=c) + f" #{rng.randrange(10**6)}"


@dataclass
class Library:
    """A served library: its URL, one API key per user, and each user's seeded prompt ids."""

    url: str
    keys: list[str]
    prompts: list[list[str]]
    data_dir: Path
    database_url: str
    log_path: Path


@contextmanager
def _database(db: str, postgres_url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database URL: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if db == "sqlite":
        yield f"sqlite:///{workdir / 'data' / 'promptcanvas.db'}"
        return
    if db != "postgres":
        raise ValueError("db must be sqlite or postgres")
    if not postgres_url:
        raise ValueError("--postgres-url is needed with --db postgres")
    with scratch_postgres(postgres_url, "pc_load") as url:
        yield url


def _seed(settings: Settings, users: int, per_user: int) -> tuple[list[str], list[list[str]]]:
    """Users, their API keys and a small library each (through the services, not HTTP)."""
    app = bootstrap(settings)  # migrates the database
    rng = random.Random(7)
    keys: list[str] = []
    seeded: list[list[str]] = []
    try:
        for u in range(users):
            user = app.users.add_user(f"load{u}")
            keys.append(app.users.create_key(user.name).secret)
            ids = []
            for i in range(per_user):
                text = sentence(rng, korean=i % 2 == 1)
                tags = [rng.choice(["cinematic", "풍경", "sketch", "portrait"])]
                ids.append(app.library.create_prompt(user.id, text=text, tags=tags).id)
            seeded.append(ids)
    finally:
        app.close()
    return keys, seeded


@contextmanager
def served(
    db: str, postgres_url: str | None, *, users: int = USERS, per_user: int = SEED_PROMPTS
) -> Iterator[Library]:
    """A seeded library served by `python -m promptcanvas serve`; stopped and removed after."""
    with tempfile.TemporaryDirectory(prefix="pc-load-") as tmp:
        workdir = Path(tmp)
        with _database(db, postgres_url, workdir) as database_url:
            data_dir = workdir / "data"
            settings = Settings(data_dir=data_dir, database_url=database_url)
            keys, prompts = _seed(settings, users, per_user)
            env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTCANVAS_")}
            env["PROMPTCANVAS_DATA_DIR"] = str(data_dir)
            env["PROMPTCANVAS_DATABASE_URL"] = database_url
            log_path = workdir / "server.log"
            port = free_port()
            with log_path.open("wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "promptcanvas", "serve", "--port", str(port)],
                    env=env,
                    cwd=workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_healthy(url, proc, log_path)
                yield Library(url, keys, prompts, data_dir, database_url, log_path)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=30)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log_path.read_text()[-4000:]}")
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"the server did not start:\n{log_path.read_text()[-4000:]}")


def drain_jobs(database_url: str, seconds: float) -> dict[str, int]:
    """Wait until no job is pending or running (or time is up); jobs per status."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        deadline = time.monotonic() + seconds
        while True:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
                )
                counts = {str(status): int(n) for status, n in rows}
            if not {"PENDING", "RUNNING"} & set(counts) or time.monotonic() > deadline:
                return counts
            time.sleep(1.0)
    finally:
        engine.dispose()


def check_counts(database_url: str) -> dict[str, int]:
    """Counts that must add up after the run: assets, orphaned revisions, doubled outputs."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    parent = prompts.alias("parent")
    orphans = sa.select(sa.func.count()).where(
        prompts.c.parent_id.is_not(None),
        ~sa.exists().where(parent.c.id == prompts.c.parent_id),
    )
    # The same uploaded file attached to the same prompt twice (an upload race lost).
    doubled = (
        sa.select(generations.c.prompt_id, generation_assets.c.asset_id)
        .join(generation_assets, generation_assets.c.generation_id == generations.c.id)
        .where(generations.c.provider == "manual")
        .group_by(generations.c.prompt_id, generation_assets.c.asset_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar_one()
            shas = conn.execute(sa.select(sa.func.count(sa.distinct(assets.c.sha256)))).scalar_one()
            return {
                "asset_rows": int(rows),
                "distinct_contents": int(shas),
                "orphaned_revisions": int(conn.execute(orphans).scalar_one()),
                "doubled_upload_outputs": int(
                    conn.execute(sa.select(sa.func.count()).select_from(doubled)).scalar_one()
                ),
            }
    finally:
        engine.dispose()


def run_doctor(lib: Library) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTCANVAS_")}
    env["PROMPTCANVAS_DATA_DIR"] = str(lib.data_dir)
    env["PROMPTCANVAS_DATABASE_URL"] = lib.database_url
    done = subprocess.run(
        [sys.executable, "-m", "promptcanvas", "doctor", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        report = {"error": (done.stdout + done.stderr)[-2000:]}
    report["exit_code"] = done.returncode
    return report
