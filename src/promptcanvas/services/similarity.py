"""How far apart two outputs are: perceptual hash, colour histogram, size, latency, cost.

Colour distance is the Hellinger form of the Bhattacharyya distance between normalised
8x8x8 RGB histograms of the stored thumbnails: sqrt(1 - sum(sqrt(p * q))). It is 0 for
the same colour distribution and 1 for images that share no colour bin; unlike L1 it
weighs a small shift between neighbouring bins less than a new colour appearing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from promptcanvas.domain.assets import Asset, Generation
from promptcanvas.domain.errors import DomainError
from promptcanvas.ports.storage import StorageError
from promptcanvas.services.assets import AssetService
from promptcanvas.services.imaging import hash_distance
from promptcanvas.services.library import Output

log = logging.getLogger(__name__)

BINS_PER_CHANNEL = 8
_SHIFT = 8 - int(math.log2(BINS_PER_CHANNEL))  # 256 levels -> 8 bins: drop 5 bits


def colour_histogram(image: Image.Image) -> NDArray[np.float64]:
    """Normalised 8x8x8 RGB histogram (512 bins summing to 1); transparent pixels count less."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    pixels = np.asarray(image.convert("RGBA" if has_alpha else "RGB"), dtype=np.uint8)
    flat = pixels.reshape(-1, pixels.shape[-1]).astype(np.int64)
    index = (
        (flat[:, 0] >> _SHIFT) * BINS_PER_CHANNEL**2
        + (flat[:, 1] >> _SHIFT) * BINS_PER_CHANNEL
        + (flat[:, 2] >> _SHIFT)
    )
    weights = flat[:, 3].astype(np.float64) if has_alpha else None
    counts = np.bincount(index, weights=weights, minlength=BINS_PER_CHANNEL**3).astype(np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def histogram_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Hellinger distance in [0, 1] between two normalised histograms (0 = same colours)."""
    overlap = float(np.sum(np.sqrt(a * b)))
    return round(math.sqrt(max(0.0, 1.0 - overlap)), 4)


def first_image(output: Output) -> Asset | None:
    """The first image file of an output, if it has one."""
    return next((a for a in output.assets if a.media_type.startswith("image/")), None)


class Histograms:
    """Colour histograms of assets from their stored thumbnails, each read once per instance."""

    def __init__(self, assets: AssetService) -> None:
        self.assets = assets
        self._seen: dict[str, NDArray[np.float64] | None] = {}

    def of(self, asset: Asset) -> NDArray[np.float64] | None:
        """The asset's histogram, or None when its thumbnail cannot be read."""
        if asset.id not in self._seen:
            self._seen[asset.id] = self._read(asset)
        return self._seen[asset.id]

    def _read(self, asset: Asset) -> NDArray[np.float64] | None:
        if asset.thumbnail_key is None:
            return None
        try:
            with self.assets.open(asset, thumbnail=True) as stream, Image.open(stream) as image:
                image.load()
                return colour_histogram(image)
        except (DomainError, StorageError, OSError, UnidentifiedImageError, ValueError):
            # A comparison still lists the pair; only this figure is missing.
            log.warning("cannot read the thumbnail of asset %s for a comparison", asset.id)
            return None

    def distance(self, a: Asset, b: Asset) -> float | None:
        """Colour distance between two assets, None if either cannot be read."""
        ha, hb = self.of(a), self.of(b)
        return None if ha is None or hb is None else histogram_distance(ha, hb)


@dataclass(frozen=True)
class Figures:
    """How an `after` output differs from a `before` one (after minus before)."""

    phash_distance: int | None  # 0..64 bits, hamming distance of the 64-bit pHash
    colour_distance: float | None  # 0..1, see the module docstring
    bytes_before: int
    bytes_after: int
    bytes_delta: int
    dimensions_before: str | None  # "WxH"
    dimensions_after: str | None
    latency_delta_ms: int | None
    cost_delta: float | None


def _dimensions(asset: Asset) -> str | None:
    return f"{asset.width}x{asset.height}" if asset.width and asset.height else None


def _delta_int(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else b - a


def _delta_cost(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 6)


def image_distance(a: Asset, b: Asset, histograms: Histograms) -> tuple[int | None, float | None]:
    """(pHash hamming distance, colour distance) between two image assets."""
    phash = hash_distance(a.phash, b.phash) if a.phash and b.phash else None
    return phash, histograms.distance(a, b)


def pair_figures(before: Output, after: Output, histograms: Histograms) -> Figures | None:
    """Figures for two outputs that both have an image; None otherwise."""
    a, b = first_image(before), first_image(after)
    if a is None or b is None:
        return None
    phash, colour = image_distance(a, b, histograms)
    return Figures(
        phash_distance=phash,
        colour_distance=colour,
        bytes_before=a.size,
        bytes_after=b.size,
        bytes_delta=b.size - a.size,
        dimensions_before=_dimensions(a),
        dimensions_after=_dimensions(b),
        latency_delta_ms=_delta_int(before.generation.latency_ms, after.generation.latency_ms),
        cost_delta=_delta_cost(before.generation.cost, after.generation.cost),
    )


def attach(gens: list[Generation], found: dict[str, Asset]) -> list[Output]:
    """Generations with their assets, in position order (assets missing from `found` skipped)."""
    return [Output(g, [found[a] for a in g.asset_ids if a in found]) for g in gens]
