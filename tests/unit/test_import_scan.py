"""A folder source's read-ahead hint: harmless whatever happened to the files since the scan."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from promptcanvas.services.import_scan import FolderSource


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIFOs and /proc/self/fd")
def test_prefetch_skips_files_gone_or_swapped_for_a_fifo_without_blocking(tmp_path: Path) -> None:
    for name in ("a.png", "b.png", "c.png"):
        (tmp_path / name).write_bytes(name.encode() * 1000)
    source = FolderSource(tmp_path)
    entries = list(source.entries())
    assert [e.name for e in entries] == ["a.png", "b.png", "c.png"]
    (tmp_path / "a.png").unlink()  # gone since the scan
    (tmp_path / "b.png").unlink()
    os.mkfifo(tmp_path / "b.png")  # a reader opening this the usual way would wait forever
    before = open_fds()

    hint = threading.Thread(target=source.prefetch, args=(entries,), daemon=True)
    hint.start()
    hint.join(timeout=10)

    assert not hint.is_alive(), "prefetch blocked on the FIFO"
    assert open_fds() == before  # every file it opened is closed again
    assert source.read(entries[2], 10_000) == b"c.png" * 1000  # the intact file reads as ever


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIFOs")
def test_a_file_swapped_for_a_fifo_after_the_scan_fails_its_read_instead_of_hanging(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.png").write_bytes(b"x" * 100)
    source = FolderSource(tmp_path)
    [entry] = list(source.entries())
    (tmp_path / "a.png").unlink()
    os.mkfifo(tmp_path / "a.png")
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(source.read(entry, 10_000))
        except OSError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)

    assert not reader.is_alive(), "the read blocked on the FIFO"
    assert isinstance(outcome[0], OSError) and "regular file" in str(outcome[0])
