"""Storage in an S3-compatible bucket, optionally under a key prefix."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from promptcanvas.ports.storage import (
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    StorageFull,
    StorageReadOnly,
    validate_key,
)

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
# What S3-compatible stores answer when they have no room: MinIO's drive threshold and bucket
# quota, Ceph's quota, and any store that sends HTTP 507.
_FULL = frozenset(
    {"XMinioStorageFull", "XMinioAdminBucketQuotaExceeded", "QuotaExceeded", "StorageFull", "507"}
)
# A refused write: the credentials may read but not write (a read-only key or bucket policy).
_REFUSED = frozenset({"AccessDenied", "403", "AllAccessDisabled"})


class S3Storage(Storage):
    """Objects in bucket under prefix; S3 puts are atomic on their own."""

    kind = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3 storage needs a bucket name")
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._endpoint_url = endpoint_url
        config = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            # Self-hosted S3 (MinIO and the like) behind a plain hostname rarely resolves
            # bucket subdomains, so a custom endpoint gets path-style addressing.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        # A private session: boto3's default session is not safe to share across threads.
        # The secret goes to botocore only and is never kept on this object.
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def __repr__(self) -> str:
        return (
            f"S3Storage(bucket={self._bucket!r}, prefix={self._prefix!r}, "
            f"endpoint_url={self._endpoint_url!r})"
        )

    def locate(self, key: str) -> str:
        """The object's s3:// URL."""
        return f"s3://{self._bucket}/{self._name(key)}"

    def put(self, key: str, data: bytes) -> None:
        """Store data under key (put_object replaces whole objects atomically)."""
        name = self._name(key)
        try:
            self._client.put_object(Bucket=self._bucket, Key=name, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(f"cannot store {key!r}", exc, write=True) from exc

    def open(self, key: str) -> BinaryIO:
        """Download the object and return it as a stream."""
        name = self._name(key)
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=name)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise ObjectNotFound(key) from exc
            raise self._error(f"cannot read {key!r}", exc) from exc
        except BotoCoreError as exc:
            raise self._error(f"cannot read {key!r}", exc) from exc
        body = response["Body"]
        try:
            data: bytes = body.read()
        except BotoCoreError as exc:
            raise self._error(f"cannot read {key!r}", exc) from exc
        finally:
            body.close()
        return io.BytesIO(data)

    def exists(self, key: str) -> bool:
        """True when an object has that key."""
        name = self._name(key)
        try:
            self._client.head_object(Bucket=self._bucket, Key=name)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return False
            raise self._error(f"cannot stat {key!r}", exc) from exc
        except BotoCoreError as exc:
            raise self._error(f"cannot stat {key!r}", exc) from exc
        return True

    def delete(self, key: str) -> None:
        """Remove the object if present (S3 deletes of missing keys succeed)."""
        name = self._name(key)
        try:
            self._client.delete_object(Bucket=self._bucket, Key=name)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(f"cannot delete {key!r}", exc, write=True) from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under prefix, keyed as the caller named it."""
        strip = len(self._prefix) + 1 if self._prefix else 0
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._full(prefix)):
                for item in page.get("Contents", []):
                    key = str(item["Key"])[strip:]
                    if _is_valid_key(key):  # skip foreign objects the port could not open
                        yield ObjectInfo(key, int(item["Size"]), item["LastModified"])
        except (ClientError, BotoCoreError) as exc:
            raise self._error(f"cannot list {prefix!r}", exc) from exc

    def check(self) -> None:
        """Raise StorageError unless the bucket answers and is accessible."""
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError as exc:
            code = _code(exc)
            if code in ("404", "NoSuchBucket"):
                raise StorageError(f"s3 bucket {self._bucket!r} does not exist") from exc
            if code in ("403", "AccessDenied"):
                raise StorageError(f"s3 bucket {self._bucket!r}: access denied") from exc
            raise self._error("not reachable", exc) from exc
        except BotoCoreError as exc:
            raise self._error("not reachable", exc) from exc

    def url_for(self, key: str, expires: int = 3600) -> str | None:
        """A presigned GET URL valid for expires seconds."""
        name = self._name(key)
        try:
            url = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": name},
                ExpiresIn=expires,
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(f"cannot sign a URL for {key!r}", exc) from exc
        return str(url)

    def _name(self, key: str) -> str:
        validate_key(key)
        return self._full(key)

    def _full(self, key_or_prefix: str) -> str:
        return f"{self._prefix}/{key_or_prefix}" if self._prefix else key_or_prefix

    def _error(self, action: str, exc: Exception, *, write: bool = False) -> StorageError:
        """The port's error for a boto failure: full, read-only (a refused write), or other."""
        kind: type[StorageError] = StorageError
        if isinstance(exc, ClientError):
            codes = {_code(exc), _status(exc)}
            if codes & _FULL:
                kind = StorageFull
            elif write and codes & _REFUSED:
                kind = StorageReadOnly
        # botocore messages carry the operation, code and endpoint, never the credentials.
        return kind(f"s3 bucket {self._bucket!r}: {action}: {exc}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> str:
    return str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _is_valid_key(key: str) -> bool:
    try:
        validate_key(key)
    except ValueError:
        return False
    return True
