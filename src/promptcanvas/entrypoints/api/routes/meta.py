"""/healthz, /readyz, /api/v1/info."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from promptcanvas import __version__
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    InfoPublic,
)
from promptcanvas.ports.storage import StorageError

router = APIRouter(tags=["meta"])
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database or storage unreachable"}})
def readyz(c: ContainerDep) -> JSONResponse:
    """Readiness: the database and the file store both answer."""
    checks: dict[str, str] = {}
    try:
        with c.db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readyz: database: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    try:
        c.storage.check()
        checks["storage"] = "ok"
    except StorageError as exc:
        log.warning("readyz: storage: %s", exc)
        checks["storage"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/api/v1/info", response_model=InfoPublic, responses=API_ERRORS)
def info(_user: CurrentUser, c: ContainerDep) -> InfoPublic:
    """What this server is: version, mode, database and storage kinds, providers. No secrets."""
    s = c.settings
    return InfoPublic(
        name="PromptCanvas",
        version=__version__,
        mode="embedded" if s.mode == "embedded" else "scaled",
        database=s.database_kind,
        storage=s.storage_kind,
        providers=c.registry.describe(),
        limits={
            "max_upload_bytes": s.max_upload_bytes,
            "max_image_pixels": s.max_image_pixels,
            "max_prompt_chars": 32_000,
        },
    )
