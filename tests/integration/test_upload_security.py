"""Hostile uploads: scriptable formats, polyglots, bombs and path-like file names.

Refused files get a 415 or 413 naming the file field and store nothing. Accepted files are
stored under keys made from their content's hash; the name a client sent is kept only as
sanitised metadata and never reaches the file system.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from promptcanvas.adapters.db.tables import assets
from promptcanvas.bootstrap import Container
from tests import factories
from tests.conftest import Api


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Upload checks do not depend on the database: SQLite only, to keep this module quick."""
    path = tmp_path / "promptcanvas.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# --- hostile files ----------------------------------------------------------------------------

SCRIPT_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("evil.class", b"\xca\xfe\xba\xbe" + b"\0" * 64)
    return out.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_chunk_before_end(kind: bytes, body: bytes) -> bytes:
    data = factories.png(40, 30, (9, 9, 9))
    return data[:-12] + chunk(kind, body) + data[-12:]


def progressive_jpeg() -> bytes:
    noisy = Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48)
    out = io.BytesIO()
    noisy.save(out, "JPEG", progressive=True, quality=90)
    return out.getvalue()


def mpo() -> bytes:
    """A phone-camera style MPO: two JPEGs in a row (the second must not count as appended)."""
    first, second = Image.new("RGB", (40, 30), (1, 2, 3)), Image.new("RGB", (40, 30), (9, 9, 9))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def jpeg_with_restart_markers() -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48).save(
        out, "JPEG", restart_marker_blocks=1
    )
    return out.getvalue()


def jpeg_with_fake_thumbnail() -> bytes:
    """A JPEG whose APP1 segment holds bytes that look like a whole JPEG (as EXIF previews do)."""
    data = factories.jpeg()
    inner = b"Exif\0\0" + b"\xff\xd8\xff\xdb\0\x04\0\0\xff\xd9"
    app1 = b"\xff\xe1" + struct.pack(">H", len(inner) + 2) + inner
    return data[:2] + app1 + data[2:]


REFUSED = {
    "svg": (SCRIPT_SVG, "x.svg", 415, "SVG"),
    "svg-with-prolog": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n' + SCRIPT_SVG,
        "x.png",
        415,
        "SVG",
    ),
    "svg-with-bom": (b"\xef\xbb\xbf" + SCRIPT_SVG, "x.png", 415, "SVG"),
    "svg-with-doctype": (
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n' + SCRIPT_SVG,
        "x.png",
        415,
        "SVG",
    ),
    "svgz": (gzip.compress(SCRIPT_SVG), "x.svgz", 415, "PNG, JPEG or WebP"),
    "html": (b"<!doctype html><script>alert(1)</script>", "x.png", 415, "PNG, JPEG or WebP"),
    "png+zip": (factories.png() + a_zip(), "x.png", 415, "after the end of the image"),
    "png+html": (factories.png() + b"<html><script>alert(1)</script>", "x.png", 415, "after"),
    "zip-inside-png": (png_with_chunk_before_end(b"prVt", a_zip()), "x.png", 415, "ZIP"),
    "gifar": (factories.gif() + a_zip(), "x.gif", 415, "GIF"),
    "jpeg+html": (factories.jpeg() + b"<script>alert(1)</script>", "x.jpg", 415, "after"),
    "jpeg+zip": (factories.jpeg() + a_zip(), "x.jpg", 415, "after"),
    "mpo+html": (mpo() + b"<script>alert(1)</script>", "x.jpg", 415, "after"),
    "webp+zip": (factories.webp() + a_zip(), "x.webp", 415, "after"),
    "bomb": (factories.huge_png(), "bomb.png", 413, "pixels"),
    "bomb-within-pillow's-limit": (factories.huge_png(9000, 9000), "b.png", 413, "limit"),
}


def stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@contextmanager
def nothing_stored(container: Container, root: Path) -> Iterator[None]:
    before = stored_files(root), asset_rows(container)
    yield
    assert (stored_files(root), asset_rows(container)) == before


def asset_rows(container: Container) -> list[tuple[Any, ...]]:
    with container.db.engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(sa.select(assets.c.storage_key, assets.c.original_name))
        ]


@pytest.mark.parametrize("case", list(REFUSED))
def test_hostile_files_are_refused_and_nothing_is_stored(
    alice: Api, container: Container, tmp_path: Path, case: str
) -> None:
    data, name, status, says = REFUSED[case]
    with nothing_stored(container, tmp_path / "files"):
        response = alice.upload(data, filename=name)
        assert response.status_code == status, response.text
    error = response.json()["error"]
    assert says in error["message"]
    assert error["details"]["field"] == "file"


def test_the_pixel_cap_refuses_real_images_over_it(
    alice: Api, container: Container, tmp_path: Path
) -> None:
    container.assets.max_pixels = 10_000
    with nothing_stored(container, tmp_path / "files"):
        response = alice.upload(factories.png(200, 100), filename="big.png")
    assert response.status_code == 413
    assert "20,000" in response.json()["error"]["message"]
    assert alice.upload(factories.png(100, 100)).status_code == 201


@pytest.mark.parametrize(
    "data",
    [
        factories.png() + b"\0" * 32,  # padding some writers leave
        factories.jpeg() + b"\xff" * 4,
        progressive_jpeg(),
        jpeg_with_fake_thumbnail(),
        factories.jpeg(orientation=6),
        png_with_chunk_before_end(b"tEXt", b"Comment\0<html><script>x</script>"),
        factories.webp(),
        mpo(),
        jpeg_with_restart_markers(),
    ],
    ids=[
        "png-padded",
        "jpeg-padded",
        "progressive",
        "exif-thumbnail",
        "exif",
        "text-chunk",
        "webp",
        "mpo",
        "restart-markers",
    ],
)
def test_ordinary_images_still_pass(alice: Api, data: bytes) -> None:
    response = alice.upload(data)
    assert response.status_code == 201, response.text
    download = alice.get(f"/api/v1/assets/{response.json()['id']}/content")
    assert download.content == data
    assert download.headers["content-type"].startswith("image/")
    assert download.headers["x-content-type-options"] == "nosniff"


NAMES = {
    "../../etc/passwd": "passwd",
    "..\\x.png": "x.png",
    "/tmp/absolute.png": "absolute.png",
    "C:\\Windows\\system32\\a.png": "a.png",
    "nul\x00byte.png": "nulbyte.png",
    "a" * 300 + ".png": "a" * 251 + ".png",
    "여름 바다 🌊 그림.png": "여름 바다 🌊 그림.png",
    "\u202egnp.exe": "gnp.exe",
    "..": None,
}


BOUNDARY = "pc-boundary-7d41"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(filename: str, data: bytes) -> bytes:
    """A form with the file name sent raw (HTTP clients would escape a NUL byte)."""
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename.encode()
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@pytest.mark.parametrize("index", range(len(NAMES)), ids=[repr(n)[:24] for n in NAMES])
def test_file_names_are_metadata_only(
    alice: Api, container: Container, tmp_path: Path, index: int
) -> None:
    name, kept = list(NAMES.items())[index]
    outside = stored_files(tmp_path.parent)
    data = factories.png(20 + index, 20, (index, 1, 2))
    response = alice.post(
        "/api/v1/assets", content=multipart(name, data), headers={"Content-Type": MULTIPART}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["original_name"] == kept
    [(key, original)] = asset_rows(container)
    assert key == f"blobs/{body['sha256'][:2]}/{body['sha256'][2:4]}/{body['sha256']}"
    assert original == kept
    # Nothing was written anywhere but the store's content-addressed folders.
    added = stored_files(tmp_path.parent) - outside
    store = f"{tmp_path.name}{os.sep}files{os.sep}"
    assert added and all(a.startswith((store + "blobs", store + "thumbs")) for a in added), added
    disposition = alice.get(f"/api/v1/assets/{body['id']}/content").headers["content-disposition"]
    assert body["sha256"][:16] in disposition and "passwd" not in disposition
