"""Run an ASGI app with uvicorn in a background thread, for tests that need real HTTP."""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.fakes.fault_injection import resettable


def _config(app: Any, **kwargs: Any) -> uvicorn.Config:
    # No websocket support: nothing here needs it, and importing a websocket library can
    # emit deprecation warnings, which pytest turns into errors.
    return uvicorn.Config(app, http="h11", ws="none", log_level="warning", **kwargs)


@contextmanager
def running_app(app: Any, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 and a free port; yields its base URL, stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(resettable(app), lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def serve_forever(app: Any, description: str) -> None:
    """The `python -m tests.fakes.<name> --port N` entry point: serve until interrupted."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    uvicorn.Server(_config(app, host=args.host, port=args.port, lifespan="on")).run()
