"""The configured providers: look them up, validate requests, describe them, price them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from promptcanvas.domain.errors import InvalidInput
from promptcanvas.ports.providers import (
    ImageModel,
    ImageRequest,
    InvalidRequest,
    ModelInfo,
    ProviderBase,
    TextModel,
    VisionModel,
)
from promptcanvas.settings import ProviderConfig


@dataclass(frozen=True)
class ProviderEntry:
    """A provider adapter with the configuration it was built from."""

    config: ProviderConfig
    adapter: ProviderBase

    @property
    def name(self) -> str:
        """The configured name."""
        return self.config.name


class ProviderRegistry:
    """Every provider this deployment can use, by name."""

    def __init__(self, entries: list[ProviderEntry]) -> None:
        self.entries = {e.name: e for e in entries}

    def entry(self, name: str) -> ProviderEntry:
        """The named provider, or a 4xx naming the ones that exist."""
        found = self.entries.get(name)
        if found is None:
            known = ", ".join(sorted(self.entries)) or "none"
            raise InvalidInput(
                f"unknown provider {name!r} (configured: {known})", {"field": "provider"}
            )
        return found

    def image(self, name: str) -> tuple[ImageModel, ProviderEntry]:
        """The named provider's image port."""
        entry = self.entry(name)
        if not isinstance(entry.adapter, ImageModel):
            raise InvalidInput(f"provider {name!r} does not make images", {"field": "provider"})
        return entry.adapter, entry

    def text(self, name: str) -> TextModel:
        """The named provider's text port."""
        adapter = self.entry(name).adapter
        if not isinstance(adapter, TextModel):
            raise InvalidInput(f"provider {name!r} does not write text", {"field": "provider"})
        return adapter

    def vision(self, name: str) -> VisionModel:
        """The named provider's vision port."""
        adapter = self.entry(name).adapter
        if not isinstance(adapter, VisionModel):
            raise InvalidInput(f"provider {name!r} cannot see images", {"field": "provider"})
        return adapter

    def image_model(self, provider: str, model: str) -> ModelInfo:
        """Capabilities of one image model, or a 4xx."""
        adapter, _ = self.image(provider)
        try:
            return adapter.model(model, "image")
        except InvalidRequest as exc:
            raise InvalidInput(exc.message, {"field": "model"}) from None

    def resolve_version(self, provider: str, model: str, version: str | None) -> str | None:
        """The version a request will run on, or a 4xx."""
        adapter, _ = self.image(provider)
        try:
            return adapter.resolve_version(adapter.model(model, "image"), version)
        except InvalidRequest as exc:
            raise InvalidInput(exc.message, {"field": "model_version"}) from None

    def validate(self, provider: str, request: ImageRequest) -> None:
        """Refuse, with a 4xx, a request the model cannot take."""
        adapter, _ = self.image(provider)
        try:
            adapter.validate_image(request)
        except InvalidRequest as exc:
            raise InvalidInput(exc.message, {"field": "params"}) from None

    def health(self, timeout: float) -> dict[str, str | None]:
        """Each provider's health (None: it answers; else why not), all checked at once.

        Takes about `timeout` seconds at most, whatever the providers do.
        """
        pool = ThreadPoolExecutor(max_workers=max(1, len(self.entries)))
        try:
            checks = {n: pool.submit(e.adapter.health, timeout) for n, e in self.entries.items()}
            wait(list(checks.values()), timeout=timeout + 0.5)
            out: dict[str, str | None] = {}
            for name, check in checks.items():
                if not check.done():
                    out[name] = f"no answer within {timeout:g} s"
                elif check.exception() is not None:
                    out[name] = f"the check failed ({type(check.exception()).__name__})"
                else:
                    out[name] = check.result()
            return out
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # a stuck check ends on its own

    def describe(self) -> list[dict[str, Any]]:
        """Public description of providers and models (no URLs, no keys)."""
        out = []
        for entry in self.entries.values():
            models = []
            for info in entry.adapter.models():
                item: dict[str, Any] = {
                    "name": info.name,
                    "kind": info.kind,
                    "versions": list(info.versions),
                    "default_version": info.default_version,
                    "description": info.description,
                }
                if info.image is not None:
                    caps = info.image
                    item["capabilities"] = {
                        "sizes": [f"{w}x{h}" for w, h in caps.sizes],
                        "min_side": caps.min_side,
                        "max_side": caps.max_side,
                        "max_prompt_chars": caps.max_prompt_chars,
                        "seed": caps.seed,
                        "negative_prompt": caps.negative_prompt,
                        "image_input": caps.image_input,
                        "max_n": caps.max_n,
                        "deterministic": caps.deterministic,
                        "params": list(caps.params),
                    }
                models.append(item)
            out.append(
                {
                    "name": entry.name,
                    "adapter": entry.config.adapter,
                    "offline": entry.config.adapter == "local",
                    "concurrency": entry.config.concurrency,
                    "requests_per_minute": entry.config.requests_per_minute,
                    "models": models,
                }
            )
        return out


def image_cost(
    config: ProviderConfig,
    model: str,
    *,
    width: int,
    height: int,
    quality: str | None,
    n: int,
    usage: dict[str, Any] | None,
) -> float | None:
    """Dollars for one request from the configured price table; None when unpriced."""
    if config.adapter == "local":
        return 0.0
    prices = config.models.get(model)
    if prices is None:
        return None
    size = f"{width}x{height}"
    per_image = prices.prices.get(f"{size}/{quality}") if quality else None
    if per_image is None:
        per_image = prices.prices.get(size, prices.price_per_image)
    total: float | None = per_image * n if per_image is not None else None
    tokens = usage or {}
    for field, price in (
        ("input_tokens", prices.price_per_1k_input_tokens),
        ("output_tokens", prices.price_per_1k_output_tokens),
    ):
        count = tokens.get(field)
        if price is not None and isinstance(count, int):
            total = (total or 0.0) + price * count / 1000
    return round(total, 6) if total is not None else None
