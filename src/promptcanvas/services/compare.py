"""Compare a prompt's outputs across providers, models and versions; render X/Y grids."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from statistics import fmean
from typing import Literal

from PIL import Image, UnidentifiedImageError

from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.errors import DomainError, InvalidInput, NotFound
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.domain.jobs import JobStatus, Target
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.ports.storage import StorageError
from promptcanvas.services.assets import AssetService
from promptcanvas.services.grids import HEADER_HEIGHT, LABEL_WIDTH, Row, render_grid
from promptcanvas.services.library import Output
from promptcanvas.services.outputs import embed_png_text
from promptcanvas.services.similarity import Histograms, attach, first_image, image_distance

log = logging.getLogger(__name__)

MAX_GRID_PROMPTS = 50
MAX_EARLIER_REVISIONS = 20  # how far back a revision is compared with its ancestors
MAX_GRID_TARGETS = 10
MIN_CELL, MAX_CELL, DEFAULT_CELL = 32, 512, 256


@dataclass(frozen=True)
class Group:
    """A prompt's outputs on one provider/model/version."""

    target: Target
    outputs: list[Output]
    succeeded: int
    mean_latency_ms: float | None
    total_cost: float | None
    mean_bytes: float | None


@dataclass(frozen=True)
class GroupPair:
    """How one group's images differ from the group before it (means over matched images)."""

    before: Target
    after: Target
    matched_by: Literal["seed", "first"] | None  # None: one side has no image
    compared: int
    mean_phash_distance: float | None
    mean_colour_distance: float | None
    mean_bytes_delta: float | None
    mean_latency_delta_ms: float | None
    total_cost_delta: float | None


@dataclass(frozen=True)
class PromptComparison:
    """A prompt's outputs grouped by target, with figures between neighbouring groups."""

    prompt: Prompt
    groups: list[Group]
    pairs: list[GroupPair]


def _target(g: Generation) -> Target:
    return Target(g.provider, g.model or "", g.model_version)


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 4) if values else None


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 6)


def _group(target: Target, outputs: list[Output]) -> Group:
    ok = [o for o in outputs if o.generation.status == JobStatus.SUCCESS.value]
    costs = [o.generation.cost for o in ok if o.generation.cost is not None]
    images = [a for a in (first_image(o) for o in ok) if a is not None]
    return Group(
        target=target,
        outputs=outputs,
        succeeded=len(ok),
        mean_latency_ms=_mean(
            [o.generation.latency_ms for o in ok if o.generation.latency_ms is not None]
        ),
        total_cost=round(sum(costs), 6) if costs else None,
        mean_bytes=_mean([a.size for a in images]),
    )


def _imaged(group: Group) -> list[tuple[Output, Asset]]:
    found = []
    for o in group.outputs:
        image = first_image(o)
        if o.generation.status == JobStatus.SUCCESS.value and image is not None:
            found.append((o, image))
    return found


def _pair(a: Group, b: Group, histograms: Histograms) -> GroupPair:
    left, right = _imaged(a), _imaged(b)
    by_seed = {
        o.generation.seed: (o, img) for o, img in reversed(left) if o.generation.seed is not None
    }
    matches = [
        (by_seed[o.generation.seed], (o, img)) for o, img in right if o.generation.seed in by_seed
    ]
    matched_by: Literal["seed", "first"] | None = "seed"
    if not matches and left and right:
        matches, matched_by = [(left[0], right[0])], "first"
    if not matches:
        matched_by = None
    phashes: list[float] = []
    colours: list[float] = []
    for (_, ia), (_, ib) in matches:
        phash, colour = image_distance(ia, ib, histograms)
        if phash is not None:
            phashes.append(phash)
        if colour is not None:
            colours.append(colour)
    return GroupPair(
        before=a.target,
        after=b.target,
        matched_by=matched_by,
        compared=len(matches),
        mean_phash_distance=_mean(phashes),
        mean_colour_distance=_mean(colours),
        mean_bytes_delta=_minus(a.mean_bytes, b.mean_bytes),
        mean_latency_delta_ms=_minus(a.mean_latency_ms, b.mean_latency_ms),
        total_cost_delta=_minus(a.total_cost, b.total_cost),
    )


def _matches(g: Generation, target: Target) -> bool:
    return (
        g.provider == target.provider
        and (g.model or "") == target.model
        and (target.version is None or g.model_version == target.version)
    )


class CompareService:
    """Side-by-side views of outputs."""

    def __init__(self, uow: UowFactory, assets: AssetService) -> None:
        self.uow = uow
        self.assets = assets

    def prompt_compare(self, owner_id: str, prompt_id: str) -> PromptComparison:
        """The prompt's outputs grouped by (provider, model, version), neighbours compared."""
        with self.uow(write=False) as uow:
            prompt = uow.prompts.get(owner_id, prompt_id) if is_valid_id(prompt_id) else None
            if prompt is None:
                raise NotFound("prompt not found", {"prompt_id": prompt_id})
            gens = uow.assets.generations_for_prompt(owner_id, prompt_id)
            found = uow.assets.assets_by_ids(owner_id, [a for g in gens for a in g.asset_ids])
        grouped: dict[Target, list[Output]] = {}
        for output in attach(gens, found):
            grouped.setdefault(_target(output.generation), []).append(output)
        # Versions of one model sit side by side, oldest first, so sketch@1 meets sketch@2.
        order = sorted(
            grouped, key=lambda t: (t.provider, t.model, grouped[t][0].generation.created_at)
        )
        groups = [_group(t, grouped[t]) for t in order]
        histograms = Histograms(self.assets)
        pairs = [_pair(a, b, histograms) for a, b in zip(groups, groups[1:], strict=False)]
        return PromptComparison(prompt, groups, pairs)

    def earlier_outputs(self, owner_id: str, prompt_id: str) -> list[tuple[Prompt, Output]]:
        """Outputs of the prompt's earlier revisions, nearest revision first (no figures)."""
        found: list[tuple[Prompt, Output]] = []
        with self.uow(write=False) as uow:
            prompt = uow.prompts.get(owner_id, prompt_id) if is_valid_id(prompt_id) else None
            if prompt is None:
                raise NotFound("prompt not found", {"prompt_id": prompt_id})
            seen: set[str] = set()
            parent_id = prompt.parent_id
            while parent_id and parent_id not in seen and len(seen) < MAX_EARLIER_REVISIONS:
                seen.add(parent_id)
                older = uow.prompts.get(owner_id, parent_id)
                if older is None:
                    break
                gens = uow.assets.generations_for_prompt(owner_id, older.id)
                assets = uow.assets.assets_by_ids(owner_id, [a for g in gens for a in g.asset_ids])
                found.extend((older, output) for output in attach(gens, assets))
                parent_id = older.parent_id
        return found

    def grid(
        self,
        owner_id: str,
        prompt_ids: list[str],
        targets: list[Target],
        cell_size: int = DEFAULT_CELL,
    ) -> Asset:
        """A PNG grid of each prompt's latest output on each target, stored as an asset."""
        ids = list(dict.fromkeys(prompt_ids))
        columns = list(dict.fromkeys(targets))
        if not 1 <= len(ids) <= MAX_GRID_PROMPTS:
            raise InvalidInput(f"give 1 to {MAX_GRID_PROMPTS} prompts", {"field": "prompt_ids"})
        if not 1 <= len(columns) <= MAX_GRID_TARGETS:
            raise InvalidInput(f"give 1 to {MAX_GRID_TARGETS} targets", {"field": "targets"})
        if not MIN_CELL <= cell_size <= MAX_CELL:
            raise InvalidInput(
                f"cell_size must be from {MIN_CELL} to {MAX_CELL}", {"field": "cell_size"}
            )
        width = LABEL_WIDTH + len(columns) * cell_size
        height = HEADER_HEIGHT + len(ids) * cell_size
        if width * height > self.assets.max_pixels:
            raise InvalidInput(
                f"the grid would be {width}x{height} pixels; use a smaller cell_size",
                {"field": "cell_size"},
            )
        prompts, picks = self._picks(owner_id, ids, columns)
        rows = [
            Row(prompt.text, [self._image(a) if a else None for a in chosen])
            for prompt, chosen in zip(prompts, picks, strict=True)
        ]
        data = render_grid([str(t) for t in columns], rows, cell_size)
        record = {
            "generator": "PromptCanvas",
            "kind": "grid",
            "prompt_ids": ids,
            "targets": [t.as_dict() for t in columns],
            "cell_size": cell_size,
        }
        data = embed_png_text(data, [("promptcanvas", json.dumps(record, ensure_ascii=False))])
        asset, thumb = self.assets.prepare_output(owner_id, data, "grid.png")
        with self.uow() as uow:
            stored = uow.assets.add(asset)
            uow.commit()
        self.assets.restore_files(stored.sha256, data, thumb)
        return stored

    def _picks(
        self, owner_id: str, ids: list[str], columns: list[Target]
    ) -> tuple[list[Prompt], list[list[Asset | None]]]:
        """Each prompt, and per column the first image of its newest successful output."""
        with self.uow(write=False) as uow:
            prompts = {i: uow.prompts.get(owner_id, i) for i in ids if is_valid_id(i)}
            missing = [i for i in ids if prompts.get(i) is None]
            if missing:
                raise NotFound(
                    f"{len(missing)} prompt(s) not found: {', '.join(missing[:5])}",
                    {"field": "prompt_ids", "prompt_ids": missing},
                )
            chosen: list[list[Generation | None]] = []
            for i in ids:
                ok = [
                    g
                    for g in uow.assets.generations_for_prompt(owner_id, i)
                    if g.status == JobStatus.SUCCESS.value and g.asset_ids
                ]
                chosen.append(
                    [next((g for g in reversed(ok) if _matches(g, t)), None) for t in columns]
                )
            wanted = [a for row in chosen for g in row if g for a in g.asset_ids]
            found = uow.assets.assets_by_ids(owner_id, wanted)
        picks = [[first_image(attach([g], found)[0]) if g else None for g in row] for row in chosen]
        return [p for p in (prompts[i] for i in ids) if p is not None], picks

    def _image(self, asset: Asset) -> Image.Image | None:
        """The asset decoded; None if unreadable.

        Images larger than a thumbnail are read from their thumbnail: a 50 x 10 grid then
        decodes at most 500 small WebPs, whatever the originals weigh.
        """
        thumbnail = asset.thumbnail_key is not None and (
            max(asset.width or 0, asset.height or 0) > self.assets.thumb_size
        )
        try:
            with (
                self.assets.open(asset, thumbnail=thumbnail) as stream,
                Image.open(stream) as image,
            ):
                image.load()
                return image.copy()
        except (DomainError, StorageError, OSError, UnidentifiedImageError, ValueError):
            log.warning("cannot read asset %s for a grid", asset.id)
            return None
