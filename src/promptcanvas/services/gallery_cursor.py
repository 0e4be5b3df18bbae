"""Cursors of the outputs listing: a keyset position bound to the filters it came from."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from promptcanvas.domain.errors import BadRequest
from promptcanvas.ports.gallery import OutputKey, OutputSort
from promptcanvas.services.paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from promptcanvas.services.gallery import OutputFilters


def fingerprint(f: OutputFilters, sort: OutputSort) -> dict[str, Any]:
    """What a cursor is bound to: every filter and the order in use."""
    data = {k: v for k, v in f.__dict__.items() if k != "sort"}
    return {**data, "sort": sort}


def encode_key(key: OutputKey, filters: dict[str, Any]) -> str:
    """The opaque cursor of a position in a listing."""
    position = {
        "t": key.created_at.isoformat(),
        "g": key.generation_id,
        "p": key.position,
        "r": key.rating,
        "pid": key.prompt_id,
        "pk": key.prompt_pk,
    }
    return encode_cursor(position, filters)


def decode_key(cursor: str, filters: dict[str, Any]) -> OutputKey:
    """The position a cursor of the same listing names; 400 for any other cursor."""
    data = decode_cursor(cursor, filters)
    bad = BadRequest("cursor is not valid for this query", {"field": "cursor"})
    try:
        created = datetime.fromisoformat(data["t"])
        gid, pos, rating, pid, pk = data["g"], data["p"], data["r"], data["pid"], data["pk"]
    except (KeyError, TypeError, ValueError):
        raise bad from None
    ints_ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (pos, rating, pk))
    if created.tzinfo is None or not ints_ok or not isinstance(gid, str):
        raise bad
    if not isinstance(pid, str):
        raise bad
    return OutputKey(created, gid, pos, rating, pid, pk)
