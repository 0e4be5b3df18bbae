"""Gallery rules without a database: folding near-duplicates, cursors bound to their query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from promptcanvas.domain.errors import BadRequest
from promptcanvas.ports.gallery import Output
from promptcanvas.services.gallery import OutputFilters, collapse_near
from promptcanvas.services.gallery_cursor import decode_key, encode_key, fingerprint

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def out(n: int, phash: str | None) -> Output:
    return Output(
        generation_id=f"g{n}",
        asset_id=f"a{n}",
        position=0,
        prompt_id="p",
        prompt_text="x",
        provider="local",
        model="sketch",
        model_version="1",
        seed=n,
        width=8,
        height=8,
        media_type="image/png",
        created_at=T0 - timedelta(minutes=n),
        starred=False,
        rating=None,
        tags=[],
        category=None,
        project_id=None,
        phash=phash,
    )


def test_near_duplicates_fold_into_the_first_and_full_pages_stop() -> None:
    rows = [
        out(0, "ff00ff00ff00ff00"),
        out(1, "ff00ff00ff00ff01"),  # 1 bit away: folded
        out(2, None),  # no hash: never folded
        out(3, "00ff00ff00ff00ff"),
        out(4, "ff00ff00ff00ff03"),  # 2 bits away from the first: folded even here
        out(5, "0f0f0f0f0f0f0f0f"),
    ]
    page: list[Output] = []
    used = collapse_near(rows, page, limit=3)
    assert [o.generation_id for o in page] == ["g0", "g2", "g3"]
    assert page[0].collapsed == ["g1", "g4"]
    assert used == 5  # g5 would be a fourth item: it starts the next page


def test_cursors_only_fit_the_query_they_came_from() -> None:
    key = out(7, None).key
    filters = fingerprint(OutputFilters(tag="sea"), "newest")
    assert decode_key(encode_key(key, filters), filters) == key
    with pytest.raises(BadRequest):
        decode_key(encode_key(key, filters), fingerprint(OutputFilters(tag="sky"), "newest"))
    with pytest.raises(BadRequest):
        decode_key(encode_key(key, filters), fingerprint(OutputFilters(tag="sea"), "oldest"))
