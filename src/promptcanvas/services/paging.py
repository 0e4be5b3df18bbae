"""Opaque cursors: base64url JSON bound to the query they came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from promptcanvas.domain.errors import BadRequest


def fingerprint(filters: dict[str, Any]) -> str:
    """A short hash of a query's filters, so a cursor cannot be replayed on another query."""
    canonical = json.dumps(filters, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def encode_cursor(position: dict[str, Any], filters: dict[str, Any]) -> str:
    """Encode a position in a listing."""
    raw = json.dumps({"v": 1, "f": fingerprint(filters), **position}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: dict[str, Any]) -> dict[str, Any]:
    """Decode a cursor made by encode_cursor for the same filters; InvalidInput otherwise."""
    bad = BadRequest("cursor is not valid for this query", {"field": "cursor"})
    if len(cursor) > 512:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("v") != 1 or data.get("f") != fingerprint(filters):
        raise bad
    return data
