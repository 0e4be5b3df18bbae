"""/api/v1/imports: import an uploaded zip, or a folder inside the server's import roots."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from promptcanvas.domain.errors import BadRequest, InvalidInput
from promptcanvas.entrypoints.api.deps import ContainerDep, CurrentUser
from promptcanvas.entrypoints.api.import_schemas import ImportCreate, ImportPublic, ImportQueued
from promptcanvas.entrypoints.api.schemas import API_ERRORS, error_responses

router = APIRouter(prefix="/api/v1", tags=["imports"], responses=API_ERRORS)
ERRORS = error_responses(404)
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ImportCreate.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "project_id": {"type": "string"},
                        "thumbnails": {"type": "boolean", "default": True},
                    },
                }
            },
        },
    }
}


def _form_bool(value: Any, name: str) -> bool:
    if value is None:
        return True
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise InvalidInput(f"{name} must be true or false", {"field": name})


def _form_text(value: Any, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{name} must be text of at most {limit} characters", {"field": name})
    return value


@router.post(
    "/imports",
    status_code=202,
    response_model=ImportQueued,
    responses={
        **error_responses(413, 415, 503, 507),
        **ERRORS,
    },
    openapi_extra=_BODY,
)
async def create_import(
    request: Request, response: Response, user: CurrentUser, c: ContainerDep
) -> ImportQueued:
    """Queue an import: a zip upload (multipart `file`) or `{"path": ...}` inside the roots."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception:  # malformed multipart: the parser's message is no help to callers
            raise BadRequest("the multipart body could not be parsed") from None
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("send the zip file in the `file` field", {"field": "file"})
            job = await run_in_threadpool(
                c.imports.submit_zip,
                user.id,
                upload.file,
                name=upload.filename,
                project_id=_form_text(form.get("project_id"), "project_id", 64),
                thumbnails=_form_bool(form.get("thumbnails"), "thumbnails"),
            )
        finally:
            await form.close()  # spooled upload files are not closed for us outside File()
    elif content_type in ("application/json", ""):
        try:
            body = ImportCreate.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
            raise RequestValidationError(errors) from None
        job = await run_in_threadpool(
            c.imports.submit_path,
            user.id,
            body.path,
            project_id=body.project_id,
            thumbnails=body.thumbnails,
        )
    else:
        raise HTTPException(415, "send a zip as multipart/form-data, or JSON with a path")
    response.headers["Location"] = f"/api/v1/imports/{job.id}"
    return ImportQueued(id=job.id, job_id=job.id, status=job.status.value)


@router.get("/imports/{import_id}", response_model=ImportPublic, responses=ERRORS)
def get_import(import_id: str, user: CurrentUser, c: ContainerDep) -> ImportPublic:
    """Progress and counts so far; the full summary once the import has finished."""
    return ImportPublic.of(c.imports.status(user.id, import_id))
