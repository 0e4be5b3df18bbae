"""The real server as a separate process: a write soak, and kill -9 in the middle of uploads."""

from __future__ import annotations

import io
import json
import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.e2e.procs import ServerProcess, run_cli
from tests.factories import png

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server process on a fresh SQLite data dir; always killed at the end."""
    process = ServerProcess(tmp_path / "data")
    try:
        yield process
    finally:
        process.stop()


def noisy_png(seed: int, size: int = 256) -> bytes:
    """A PNG that does not compress (so uploads take real time to write), unique per seed."""
    pixels = random.Random(seed).randbytes(size * size * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (size, size), pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


@dataclass
class Tally:
    """One writer's record."""

    ok: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)


def soak_writer(
    url: str, key: str, index: int, deadline: float, max_requests: int, tally: Tally
) -> None:
    """Create, revise, retag and upload until the deadline; every answer must be a 2xx."""
    rng = random.Random(index)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60.0) as client:
        for n in range(max_requests):
            if time.monotonic() >= deadline or len(tally.failures) >= 20:
                return
            op = "create" if not tally.prompts else ("create", "revise", "tag", "upload")[n % 4]
            target = rng.choice(tally.prompts) if tally.prompts else ""
            started = time.perf_counter()
            try:
                if op == "create":
                    response = client.post(
                        "/api/v1/prompts",
                        json={
                            "text": f"soak {index}-{n} 귀여운 강아지 puppy",
                            "tags": [f"w{index}"],
                        },
                    )
                elif op == "revise":
                    response = client.post(
                        f"/api/v1/prompts/{target}/revisions",
                        json={"text": f"soak {index}-{n} revised 밝은 영상"},
                    )
                elif op == "tag":
                    response = client.patch(
                        f"/api/v1/prompts/{target}", json={"tags": [f"w{index}", f"n{n}"]}
                    )
                else:
                    response = client.post(
                        "/api/v1/assets",
                        files={"file": ("s.png", png(16, 16, (index, n % 256, n // 256 % 256)))},
                        data={"prompt_id": target, "parameters": json.dumps({"seed": n})},
                    )
            except httpx.HTTPError as exc:
                tally.failures.append(f"{op}: {type(exc).__name__}: {exc}")
                continue
            tally.latencies.append(time.perf_counter() - started)
            if not response.is_success:
                tally.failures.append(f"{op}: {response.status_code} {response.text[:300]}")
                continue
            tally.ok[op] += 1
            if op in ("create", "revise"):
                tally.prompts.append(response.json()["id"])


def count_prompts(url: str, key: str) -> int:
    """How many live prompts the API lists, page by page."""
    total, cursor = 0, None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        for _page in range(10_000):
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/prompts", params=params).json()
            total += len(page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                return total
    raise AssertionError("listing did not end")


@pytest.mark.slow
def test_twenty_writers_soak_with_zero_failures_and_a_live_backup(
    server: ServerProcess, tmp_path: Path
) -> None:
    seconds = float(os.environ.get("PROMPTCANVAS_SOAK_SECONDS", "30"))
    server.start()
    key = server.create_key()
    tallies = [Tally() for _ in range(20)]
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=soak_writer, args=(server.url, key, i, deadline, 1_000_000, tally), daemon=True
        )
        for i, tally in enumerate(tallies)
    ]
    for thread in threads:
        thread.start()
    # A backup taken while the writers run must restore to a consistent library.
    time.sleep(seconds / 2)
    backup = run_cli(server.data_dir, "backup", str(tmp_path / "backup"))
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "a writer hung"

    failures = [f for t in tallies for f in t.failures]
    ok = sum((t.ok for t in tallies), Counter())
    latencies = sorted(x for t in tallies for x in t.latencies)
    requests = sum(ok.values()) + len(failures)
    print(
        f"\nsoak: 20 writers, {elapsed:.1f} s, {requests} requests, "
        f"{requests / elapsed:.0f} req/s, {len(failures)} failed; {dict(ok)}; latency "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    assert failures == [], failures[:10]
    assert backup.returncode == 0, backup.stderr
    assert count_prompts(server.url, key) == ok["create"] + ok["revise"]
    doctor = run_cli(server.data_dir, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert json.loads(doctor.stdout)["rows_with_missing_files"] == []
    assert "database is locked" not in server.log()

    restored = tmp_path / "restored"
    done = run_cli(restored, "restore", str(tmp_path / "backup"))
    assert done.returncode == 0, done.stderr
    doctor = run_cli(restored, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert json.loads(doctor.stdout)["orphaned_files"] == 0


@dataclass
class Acknowledged:
    """Writes the server answered with a 2xx before it died."""

    prompts: dict[str, str] = field(default_factory=dict)
    assets: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def crash_writer(url: str, key: str, index: int, deadline: float, acked: Acknowledged) -> None:
    """Create a prompt, attach a distinct PNG, repeat, until the server stops answering."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as client:
        for n in range(10_000):
            if time.monotonic() >= deadline:
                return
            text = f"crash {index}-{n} 눈 내리는 산타마을 풍경"
            data = noisy_png(index * 100_000 + n)
            try:
                created = client.post("/api/v1/prompts", json={"text": text})
                if created.status_code != 201:
                    with acked.lock:
                        acked.unexpected.append(f"prompt: {created.status_code} {created.text}")
                    continue
                prompt_id = created.json()["id"]
                with acked.lock:
                    acked.prompts[prompt_id] = text
                uploaded = client.post(
                    "/api/v1/assets",
                    files={"file": (f"{index}-{n}.png", data)},
                    data={"prompt_id": prompt_id, "model": "crash-test"},
                )
                if uploaded.status_code != 201:
                    with acked.lock:
                        acked.unexpected.append(f"asset: {uploaded.status_code} {uploaded.text}")
                    continue
                with acked.lock:
                    acked.assets[uploaded.json()["id"]] = (prompt_id, data)
            except httpx.TransportError:
                return  # the server is gone: whatever was in flight is unacknowledged


@pytest.mark.slow
def test_kill_9_during_uploads_loses_no_acknowledged_write(server: ServerProcess) -> None:
    server.start()
    key = server.create_key()
    acked = Acknowledged()
    deadline = time.monotonic() + 30
    threads = [
        threading.Thread(target=crash_writer, args=(server.url, key, i, deadline, acked))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    time.sleep(3)
    server.kill()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert acked.unexpected == []
    assert acked.assets, "nothing was acknowledged before the kill"

    server.start()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30.0) as client:
        outputs: dict[str, list[str]] = {}
        for prompt_id, text in acked.prompts.items():
            response = client.get(f"/api/v1/prompts/{prompt_id}")
            assert response.status_code == 200, response.text
            assert response.json()["text"] == text
            outputs[prompt_id] = [a["id"] for o in response.json()["outputs"] for a in o["assets"]]
        for asset_id, (prompt_id, data) in acked.assets.items():
            assert outputs[prompt_id] == [asset_id]
            content = client.get(f"/api/v1/assets/{asset_id}/content")
            assert content.status_code == 200, content.text
            assert content.content == data
            assert client.get(f"/api/v1/assets/{asset_id}/thumbnail").status_code == 200

    doctor = run_cli(server.data_dir, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    before = json.loads(doctor.stdout)
    assert before["rows_with_missing_files"] == []
    # Temp files of puts cut short by the kill are removed once old enough to be sure no put is
    # still writing them; make them that old rather than wait.
    leftovers = [p for p in (server.data_dir / "files" / ".tmp").glob("*") if p.is_file()]
    for path in leftovers:
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    repaired = run_cli(server.data_dir, "doctor", "--repair", "--json")
    assert repaired.returncode == 0, repaired.stderr
    after = json.loads(run_cli(server.data_dir, "doctor", "--json").stdout)
    assert after["orphaned_files"] == 0
    assert after["rows_with_missing_files"] == []
    assert [p for p in (server.data_dir / "files" / ".tmp").glob("*") if p.is_file()] == []
    swept = json.loads(repaired.stdout)
    assert swept["deleted_temp_files"] == len(leftovers)
    print(
        f"\ncrash: {len(acked.prompts)} prompts and {len(acked.assets)} uploads acknowledged "
        f"before kill -9, all intact; {before['orphaned_files']} orphaned files found and "
        f"{swept['deleted_files']} swept; {len(leftovers)} partial temp files removed"
    )


def printed_links(log: str) -> list[str]:
    """Login links `serve` printed (access-log lines excluded)."""
    lines = (line.strip() for line in log.splitlines())
    return [line for line in lines if line.startswith("http") and "/auth/login?token=" in line]


def test_first_serve_prints_a_login_link_that_works_once(server: ServerProcess) -> None:
    server.start()
    links = printed_links(server.log())
    assert len(links) == 1
    assert links[0].startswith(f"{server.url}/auth/login?token=")
    assert "created the admin user" in server.log()
    with httpx.Client(timeout=10.0) as browser:
        first = browser.get(links[0])
        assert first.status_code == 303
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "admin" in browser.get(f"{server.url}/").text
        browser.cookies.clear()
        assert browser.get(links[0]).status_code == 401
        assert browser.get(f"{server.url}/api/v1/prompts").status_code == 401
        assert browser.get(f"{server.url}/readyz").json()["status"] == "ok"

    server.stop()
    server.start()  # a restart keeps the admin and prints a fresh link
    log = server.log()
    assert log.count("created the admin user") == 1
    assert len(printed_links(log)) == 2
