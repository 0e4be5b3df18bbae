"""Streaming a stored file (or a spooled one) into a response body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

CHUNK = 256 * 1024


def file_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's bytes in chunks; closes it when done or when the client goes away."""
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()
