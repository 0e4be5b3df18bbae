"""Cursors are opaque, bound to their query, and refuse tampering."""

from __future__ import annotations

import base64
import json

import pytest

from promptcanvas.domain.errors import BadRequest
from promptcanvas.services.paging import decode_cursor, encode_cursor

FILTERS = {"q": "fox", "sort": "newest"}


def test_round_trip() -> None:
    cursor = encode_cursor({"k": 42}, FILTERS)
    assert decode_cursor(cursor, FILTERS)["k"] == 42


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90IGpzb24", "a" * 600, "e30"])
def test_garbage_is_refused(cursor: str) -> None:
    with pytest.raises(BadRequest):
        decode_cursor(cursor, FILTERS)


def test_cursor_of_another_query_is_refused() -> None:
    cursor = encode_cursor({"k": 42}, FILTERS)
    with pytest.raises(BadRequest):
        decode_cursor(cursor, {**FILTERS, "q": "wolf"})


def test_forged_fingerprint_is_refused() -> None:
    raw = json.dumps({"v": 1, "f": "000000000000", "k": 1}).encode()
    with pytest.raises(BadRequest):
        decode_cursor(base64.urlsafe_b64encode(raw).decode(), FILTERS)
