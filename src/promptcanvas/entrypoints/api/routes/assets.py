"""/api/v1/assets: upload (content-addressed), metadata, content and thumbnail downloads, and
downloads with generation metadata embedded (converted or resized on request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from promptcanvas.domain.assets import MEDIA_EXTENSIONS, thumbnail_media_type
from promptcanvas.domain.errors import InvalidInput
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.files import file_chunks
from promptcanvas.entrypoints.api.schemas import (
    API_ERRORS,
    AssetPublic,
    AssetUploaded,
    error_responses,
)
from promptcanvas.services.assets import parse_parameters
from promptcanvas.services.downloads import prepare_download

router = APIRouter(prefix="/api/v1/assets", tags=["assets"], responses=API_ERRORS)
ERRORS = error_responses(404)


@router.post(
    "",
    status_code=201,
    response_model=AssetUploaded,
    responses={
        200: {"model": AssetUploaded, "description": "These bytes were stored already"},
        **error_responses(409, 413, 415, 503, 507),
        **ERRORS,
    },
)
def upload_asset(
    response: Response,
    user: CurrentUser,
    c: ContainerDep,
    file: Annotated[UploadFile, File(description="PNG, JPEG or WebP")],
    prompt_id: Annotated[str | None, Form(max_length=64)] = None,
    provider: Annotated[str | None, Form(max_length=100)] = None,
    model: Annotated[str | None, Form(max_length=200)] = None,
    model_version: Annotated[str | None, Form(max_length=100)] = None,
    parameters: Annotated[str | None, Form(description="JSON object")] = None,
) -> AssetUploaded:
    """Upload an image; the same bytes are stored once. With prompt_id it becomes an output."""
    limit = c.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    params = parse_parameters(parameters)
    if prompt_id is not None and not prompt_id.strip():
        raise InvalidInput("prompt_id must not be empty", {"field": "prompt_id"})
    result = c.assets.upload(
        user.id,
        data,
        filename=file.filename,
        prompt_id=prompt_id,
        provider=provider,
        model=model,
        model_version=model_version,
        parameters=params,
    )
    response.status_code = 201 if result.created else 200
    return AssetUploaded(
        **AssetPublic.of(result.asset).model_dump(),
        created=result.created,
        generation_id=result.generation.id if result.generation else None,
    )


@router.get("/{asset_id}", response_model=AssetPublic, responses=ERRORS)
def get_asset(asset_id: str, user: CurrentUser, c: ContainerDep) -> AssetPublic:
    """An asset's metadata."""
    return AssetPublic.of(c.assets.get(user.id, asset_id))


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match holds a list of tags compared weakly, or `*` (RFC 9110, 13.1.2)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def _download(
    request: Request, c: ContainerDep, user_id: str, asset_id: str, thumbnail: bool
) -> Response:
    asset = c.assets.get(user_id, asset_id)
    etag = f'"{asset.sha256}{"-t" if thumbnail else ""}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    stream = c.assets.open(asset, thumbnail=thumbnail)
    media_type = thumbnail_media_type(asset.thumbnail_key or "") if thumbnail else asset.media_type
    ext = MEDIA_EXTENSIONS.get(media_type, "bin")
    headers["Content-Disposition"] = f'inline; filename="{asset.sha256[:16]}.{ext}"'
    if not thumbnail:
        headers["Content-Length"] = str(asset.size)
    return StreamingResponse(file_chunks(stream), media_type=media_type, headers=headers)


@router.get(
    "/{asset_id}/content",
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
    response_class=Response,
)
def asset_content(asset_id: str, request: Request, user: CurrentUser, c: ContainerDep) -> Response:
    """The original bytes, with their media type."""
    return _download(request, c, user.id, asset_id, thumbnail=False)


@router.get(
    "/{asset_id}/thumbnail",
    responses={200: {"content": {"image/webp": {}, "image/jpeg": {}}}, **ERRORS},
    response_class=Response,
)
def asset_thumbnail(
    asset_id: str, request: Request, user: CurrentUser, c: ContainerDep
) -> Response:
    """A WebP thumbnail, EXIF orientation applied."""
    return _download(request, c, user.id, asset_id, thumbnail=True)


@router.get(
    "/{asset_id}/download",
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
        **error_responses(415, 503),
        **ERRORS,
    },
    response_class=Response,
)
def download_asset(
    asset_id: str,
    user: CurrentUser,
    c: ContainerDep,
    format: Annotated[
        str | None, Query(max_length=40, description="png, jpeg or webp (default: as stored)")
    ] = None,
    max_size: Annotated[
        int | None, Query(description="Longest side in pixels; never enlarges")
    ] = None,
) -> Response:
    """The file with its generation metadata embedded, converted and resized on request."""
    found = prepare_download(c.assets, user.id, asset_id, fmt=format, max_size=max_size)
    headers = {
        "Content-Disposition": found.content_disposition,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(found.data, media_type=found.media_type, headers=headers)
