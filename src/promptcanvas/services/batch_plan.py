"""Job payloads for a batch re-run: the target is validated once, each prompt is then cheap.

`build_target` validates a request against a model; doing it for 10,000 prompts would cost
seconds. Its result depends only on the parameters (the prompt text and seed are copied
into the payload), so it runs once per distinct parameter set and every prompt with that
set reuses the payload with its own text and seed.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from promptcanvas.domain.errors import InvalidInput
from promptcanvas.domain.jobs import Target
from promptcanvas.ports.jobs import RerunSource
from promptcanvas.services.generate import SEED_LIMIT, build_target
from promptcanvas.services.providers import ProviderRegistry

MAX_OVERRIDE_BYTES = 16 * 1024
MAX_OVERRIDE_DEPTH = 8
_PROBE_TEXT = "probe"  # stands in for prompt text while validating parameters


def check_override(params: dict[str, Any]) -> None:
    """params_override must be a small JSON object that any database can store."""
    if not isinstance(params, dict):
        raise InvalidInput("params_override must be an object", {"field": "params_override"})
    try:
        raw = json.dumps(params, allow_nan=False, ensure_ascii=False).encode()
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError):
        raise InvalidInput(
            "params_override must be plain JSON (no NaN, Infinity or broken text)",
            {"field": "params_override"},
        ) from None
    if len(raw) > MAX_OVERRIDE_BYTES:
        raise InvalidInput(
            f"params_override is larger than {MAX_OVERRIDE_BYTES // 1024} KiB",
            {"field": "params_override"},
        )
    if _depth(params) > MAX_OVERRIDE_DEPTH:
        raise InvalidInput(
            f"params_override nests deeper than {MAX_OVERRIDE_DEPTH} levels",
            {"field": "params_override"},
        )


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


class Planner:
    """Builds the job target of each prompt of one batch."""

    def __init__(
        self, registry: ProviderRegistry, target: Target, override: dict[str, Any], seeds: str
    ) -> None:
        check_override(override)
        self.registry = registry
        self.provider = target.provider
        self.model = target.model
        self.override = override
        self.seeds = seeds
        caps = registry.image_model(target.provider, target.model).image
        assert caps is not None
        self.caps = caps
        self.version = registry.resolve_version(target.provider, target.model, target.version)
        # The override is the caller's input: it must suit the target exactly (strict).
        self._build(override, strict=True)
        self._templates: dict[str, dict[str, Any]] = {}

    @property
    def resolved(self) -> Target:
        """The target with its version resolved."""
        return Target(self.provider, self.model, self.version)

    def _build(self, params: dict[str, Any], *, strict: bool) -> dict[str, Any]:
        return build_target(
            self.registry,
            provider=self.provider,
            model=self.model,
            version=self.version,
            prompt=_PROBE_TEXT,
            negative="",
            params=params,
            seed=0,
            n=1,
            cache=None,
            strict=strict,
        )

    def _template(self, before: dict[str, Any]) -> dict[str, Any]:
        merged = {**before, **self.override}
        key = json.dumps(merged, sort_keys=True, default=str)
        found = self._templates.get(key)
        if found is None:
            try:
                # Parameters the target does not know are dropped (as for a fallback target).
                found = self._build(merged, strict=False)
            except InvalidInput:
                # The old output's settings do not fit the new model at all (a size it cannot
                # make): the target's defaults plus the override, which is known to fit.
                found = self._build(self.override, strict=False)
            self._templates[key] = found
        return found

    def too_long(self, text: str) -> bool:
        """True when the target cannot take a prompt this long."""
        return len(text) > self.caps.max_prompt_chars

    def seed_for(self, source: RerunSource) -> int | None:
        """The seed of the re-run: the old one ("same"), or a new one ("new" or none known)."""
        if not self.caps.seed:
            return None
        old = source.seed if source.source_id is not None else None
        if self.seeds == "same" and old is not None and 0 <= old < SEED_LIMIT:
            return old
        seed = secrets.randbelow(SEED_LIMIT)
        while seed == old:
            seed = secrets.randbelow(SEED_LIMIT)
        return seed

    def target_for(self, source: RerunSource) -> dict[str, Any]:
        """The job-payload target of one prompt (its text, negative text and seed filled in)."""
        template = self._template(source.parameters)
        request = dict(template["request"])
        request["prompt"] = source.text
        request["negative_prompt"] = source.negative_text if self.caps.negative_prompt else ""
        request["seed"] = self.seed_for(source)
        return {**template, "parameters": dict(template["parameters"]), "request": request}
