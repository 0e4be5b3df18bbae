"""/api/v1/keys: the caller's own API keys (create, list, revoke)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StrictStr

from promptcanvas.domain.users import ApiKey
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.schemas import API_ERRORS, In, error_responses

router = APIRouter(prefix="/api/v1", tags=["account"], responses=API_ERRORS)
ERRORS = error_responses(404)


class KeyCreate(In):
    name: StrictStr = Field(min_length=1, max_length=100)


class KeyPublic(BaseModel):
    id: str
    name: str | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, k: ApiKey) -> KeyPublic:
        return cls(
            id=k.id,
            name=k.name,
            prefix=k.prefix,
            created_at=k.created_at,
            last_used_at=k.last_used_at,
            revoked_at=k.revoked_at,
            revoked=k.revoked_at is not None,
        )


class KeyCreated(KeyPublic):
    secret: str = Field(description="The whole key; shown this once and never stored")


class KeysPublic(BaseModel):
    data: list[KeyPublic]


@router.get("/keys", response_model=KeysPublic, responses=ERRORS)
def list_keys(user: CurrentUser, c: ContainerDep) -> KeysPublic:
    """Your API keys, newest first (prefixes only: secrets are never stored)."""
    return KeysPublic(data=[KeyPublic.of(k) for k in c.users.keys_for(user.id)])


@router.post("/keys", status_code=201, response_model=KeyCreated, responses=ERRORS)
def create_key(body: KeyCreate, user: CurrentUser, c: ContainerDep) -> KeyCreated:
    """A new API key; the response carries its secret, which is shown this once only."""
    created = c.users.create_key_for(user.id, body.name)
    return KeyCreated(**KeyPublic.of(created.key).model_dump(), secret=created.secret)


@router.delete("/keys/{key_id}", status_code=204, response_class=Response, responses=ERRORS)
def revoke_key(key_id: str, user: CurrentUser, c: ContainerDep) -> Response:
    """Revoke one of your keys; it stops working at once."""
    c.users.revoke_key(user.id, key_id)
    return Response(status_code=204)
