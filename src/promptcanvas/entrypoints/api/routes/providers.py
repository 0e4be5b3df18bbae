"""/api/v1/providers: the configured providers, their models and capabilities, and health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.schemas import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["providers"], responses=API_ERRORS)
HEALTH_TIMEOUT = 3.0


class HealthPublic(BaseModel):
    ok: bool
    detail: str | None
    checked_at: datetime


class CircuitPublic(BaseModel):
    state: Literal["closed", "open", "half_open"]  # open: jobs go to fallbacks or wait
    retry_at: datetime | None  # when an open breaker lets one probe call through


class ProviderPublic(BaseModel):
    name: str
    adapter: str
    offline: bool
    concurrency: int
    requests_per_minute: int | None
    models: list[dict[str, Any]]
    health: HealthPublic | None
    circuit: CircuitPublic


class ProvidersPublic(BaseModel):
    data: list[ProviderPublic]


@router.get(
    "/providers",
    response_model=ProvidersPublic,
)
def list_providers(
    _user: CurrentUser,
    c: ContainerDep,
    health: Annotated[bool, Query(description="Ask each provider whether it answers")] = True,
) -> ProvidersPublic:
    """Providers with their models; with health, each is asked once (3 s at most, together)."""
    checked = c.registry.health(HEALTH_TIMEOUT) if health else {}
    now = c.clock.now()
    data = []
    for described in c.registry.describe():
        name = described["name"]
        state = None
        if name in checked:
            state = HealthPublic(ok=checked[name] is None, detail=checked[name], checked_at=now)
        breaker = c.runner.circuit(name)
        circuit = CircuitPublic(
            state=breaker.circuit.value,
            retry_at=None
            if breaker.circuit == "closed"
            else datetime.fromtimestamp(breaker.until, UTC),
        )
        data.append(ProviderPublic(**described, health=state, circuit=circuit))
    return ProvidersPublic(data=data)
