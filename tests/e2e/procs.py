"""Real processes for end-to-end tests: the server, Celery workers, fake providers.

Every process writes its output to a log file, can be killed with SIGKILL (no shutdown
handlers, like a power cut) and is always reaped, so no test leaves a process behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 30.0
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on right now (on 127.0.0.1 only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def library_env(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment minus any PROMPTCANVAS_* setting, plus the data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTCANVAS_")}
    env["PROMPTCANVAS_DATA_DIR"] = str(data_dir)
    env.update(extra or {})
    return env


def run_cli(
    data_dir: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`promptcanvas ARGS` as its own process on a data dir."""
    return subprocess.run(
        [sys.executable, "-m", "promptcanvas", *args],
        env=library_env(data_dir, env),
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Spawned:
    """One child process with its output in a log file; killable, restartable, reaped."""

    def __init__(
        self, args: list[str], *, env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> None:
        self.args = args
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not running"
        return self.proc.pid

    def spawn(self, args: list[str] | None = None) -> None:
        """Start the process (with these arguments, if given) without waiting for it."""
        assert self.proc is None, "already running"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args or self.args, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        """Poll `ready` until it is true; fail with the log if the process exits or stalls."""
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{what} exited with {self.proc.returncode}:\n{self.log()}")
            if ready():
                return
            time.sleep(0.05)
        pytest.fail(f"{what} did not become ready in {STARTUP_SECONDS:.0f} s:\n{self.log()}")

    def pause(self) -> None:
        """SIGSTOP: freeze the process as it is, so what it holds can be looked at."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `pause`."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, then reap (a zombie would still look alive to `kill(pid, 0)`)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill if that takes too long; no-op if not running."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=15)
            self.proc = None

    def log(self, tail: int | None = 6000) -> str:
        """What the process printed (the last `tail` characters; all with None)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text if tail is None else text[-tail:]


class ServerProcess(Spawned):
    """`python -m promptcanvas serve` on a data dir; restartable, killable."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.extra_env = dict(env or {})
        super().__init__(
            [],
            env=library_env(data_dir, env),
            cwd=data_dir.parent,
            log_path=data_dir.parent / "server.log",
        )
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until /healthz answers."""
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            cmd = [sys.executable, "-m", "promptcanvas", "serve", "--port", str(self.port)]
            self.spawn(cmd)
            if self._wait_healthy():
                return
            self._reap()
        pytest.fail(f"the server did not start:\n{self.log()}")

    def _wait_healthy(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        return False

    def create_key(self) -> str:
        """A key for the admin user (made by the first `serve`), through the CLI."""
        done = run_cli(
            self.data_dir, "keys", "create", "--user", "admin", "--json", env=self.extra_env
        )
        assert done.returncode == 0, done.stderr
        key: str = json.loads(done.stdout)["key"]
        return key


class CeleryWorker(Spawned):
    """`python -m promptcanvas worker --celery` sharing a server's data dir and settings."""

    def __init__(self, server: ServerProcess, name: str, *, concurrency: int = 4) -> None:
        super().__init__(
            [
                sys.executable,
                "-m",
                "promptcanvas",
                "worker",
                "--celery",
                "--concurrency",
                str(concurrency),
                "--name",
                f"{name}@%h",
            ],
            env=server.env,
            cwd=server.cwd,
            log_path=server.cwd / f"{name}.log",
        )
        self.name = name

    def start(self) -> None:
        """Start and wait until Celery says the worker is ready."""
        self.spawn()
        self.wait_until(lambda: " ready." in self.log(), f"celery worker {self.name}")


class FakeProvider(Spawned):
    """`python -m tests.fakes.<module> --port N` from the repository root."""

    def __init__(self, module: str, log_dir: Path) -> None:
        self.port = free_port()
        super().__init__(
            [sys.executable, "-m", f"tests.fakes.{module}", "--port", str(self.port)],
            env={**os.environ},
            cwd=REPO,
            log_path=log_dir / f"{module}.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe: str) -> None:
        """Start and wait until GET `probe` answers."""
        self.spawn()

        def answers() -> bool:
            try:
                return httpx.get(f"{self.url}{probe}", timeout=1.0).status_code == 200
            except httpx.TransportError:
                return False

        self.wait_until(answers, f"fake {self.args[2]}")
