"""Reading a batch: the owner's batch, and its before/after pairs with figures."""

from __future__ import annotations

from dataclasses import dataclass

from promptcanvas.domain.assets import Asset
from promptcanvas.domain.errors import InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.ports.jobs import Batch
from promptcanvas.ports.repositories import UnitOfWork, UowFactory
from promptcanvas.services.assets import AssetService
from promptcanvas.services.library import Output
from promptcanvas.services.paging import decode_cursor, encode_cursor
from promptcanvas.services.similarity import Figures, Histograms, attach, pair_figures

MAX_PAIRS = 10_000
ASSET_CHUNK = 500


@dataclass(frozen=True)
class Pair:
    """One prompt of a batch: its output before the re-run and the re-run's output."""

    prompt_id: str
    text: str
    before: Output | None
    after: Output
    figures: Figures | None


def owned_batch(uow: UnitOfWork, owner_id: str, batch_id: str) -> Batch:
    """The owner's batch, or 404 (someone else's batch is not found either)."""
    batch = uow.jobs.get_batch(owner_id, batch_id) if is_valid_id(batch_id) else None
    if batch is None:
        raise NotFound("batch not found", {"batch_id": batch_id})
    return batch


def compare_batch(
    uow_factory: UowFactory,
    assets: AssetService,
    owner_id: str,
    batch_id: str,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Pair], str | None]:
    """Before/after pairs in generation-id order, `limit` per page, and the next cursor."""
    if not 1 <= limit <= MAX_PAIRS:
        raise InvalidInput(f"limit must be from 1 to {MAX_PAIRS:,}", {"field": "limit"})
    filters = {"batch": batch_id}
    after_id = ""
    if cursor:
        value = decode_cursor(cursor, filters).get("g")
        if not isinstance(value, str):
            raise InvalidInput("cursor is not valid", {"field": "cursor"})
        after_id = value
    with uow_factory(write=False) as uow:
        batch = owned_batch(uow, owner_id, batch_id)
        made = [g for g in uow.jobs.batch_generations(batch.id) if g.id > after_id]
        page = made[:limit]
        befores = uow.jobs.generations_by_ids(
            owner_id, [g.source_generation_id for g in page if g.source_generation_id]
        )
        prompts = uow.jobs.rerun_sources(owner_id, [g.prompt_id for g in page], latest=False)
        wanted = [a for g in [*page, *befores.values()] for a in g.asset_ids]
        found: dict[str, Asset] = {}
        for i in range(0, len(wanted), ASSET_CHUNK):
            found.update(uow.assets.assets_by_ids(owner_id, wanted[i : i + ASSET_CHUNK]))
    histograms = Histograms(assets)
    pairs = []
    for after in attach(page, found):
        source = after.generation.source_generation_id
        before_gen = befores.get(source) if source else None
        before = attach([before_gen], found)[0] if before_gen else None
        prompt = prompts.get(after.generation.prompt_id)
        pairs.append(
            Pair(
                prompt_id=after.generation.prompt_id,
                text=prompt.text if prompt else "",
                before=before,
                after=after,
                figures=pair_figures(before, after, histograms) if before else None,
            )
        )
    next_cursor = None
    if len(made) > limit and page:
        next_cursor = encode_cursor({"g": page[-1].id}, filters)
    return pairs, next_cursor
