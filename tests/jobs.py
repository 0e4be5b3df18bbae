"""Helpers for tests that drive the job runner synchronously with scripted providers."""

from __future__ import annotations

from typing import Any

from promptcanvas.bootstrap import Container
from promptcanvas.ports.providers.fake import FakeImageModel
from promptcanvas.services.providers import ProviderEntry
from promptcanvas.settings import ProviderConfig, Settings


def no_wait_retries(settings: Settings) -> Settings:
    """Settings whose retries do not wait, so one thread can run a job to its end."""
    return settings.model_copy(update={"retry_base_seconds": 0.0, "retry_max_seconds": 0.0})


def add_fake(container: Container, name: str = "fake", **kw: Any) -> FakeImageModel:
    """Register a scripted image provider under `name` (model `toy`)."""
    model = FakeImageModel(name, **kw)
    config = ProviderConfig(name=name, adapter="local", concurrency=2)
    container.registry.entries[name] = ProviderEntry(config, model)
    return model


def drain(container: Container, limit: int = 1000) -> int:
    """Run jobs until none is runnable; returns how many runs happened."""
    runs = 0
    while runs < limit and container.runner.run_next():
        runs += 1
    return runs
