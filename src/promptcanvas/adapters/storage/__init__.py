"""Storage adapters: local files and S3-compatible object stores behind the Storage port."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from promptcanvas.ports.storage import Storage


def open_storage(
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> Storage:
    """Build the store a URL names: `file:///abs/path` or `s3://bucket/optional/prefix`."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"storage URL must not have a query or fragment: {url!r}")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file storage URL must be file:///absolute/path, got {url!r}")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"file storage URL needs an absolute path, got {url!r}")
        # Imported here so that choosing one backend never imports the other's dependencies.
        from promptcanvas.adapters.storage.local import LocalStorage

        return LocalStorage(Path(path))
    if parts.scheme == "s3":
        if "@" in parts.netloc:
            # Do not echo the URL: what precedes '@' is likely a secret.
            raise ValueError("s3 storage URL must not carry credentials; pass them separately")
        if not parts.netloc:
            raise ValueError(f"s3 storage URL needs a bucket: s3://bucket/prefix, got {url!r}")
        from promptcanvas.adapters.storage.s3 import S3Storage

        return S3Storage(
            parts.netloc,
            unquote(parts.path).strip("/"),
            endpoint_url=endpoint_url,
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )
    raise ValueError(
        f"unsupported storage URL {url!r}: expected file:///absolute/path or s3://bucket/prefix"
    )
