"""Upload (multipart, streamed and size-limited), list, download and delete files."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.attachments import service
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.config import get_settings
from crm_core.database import request_session
from crm_core.errors import Invalid, NotFound, TooLarge

router = APIRouter(tags=["attachments"])
MULTIPART_OVERHEAD = 64 * 1024  # headers and the other small fields of the form


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: int | None
    owner_type: str
    owner_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int | None
    uploaded_at: datetime


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


async def receive_file(request: Request) -> tuple[str | None, str | None, service.UploadSink]:
    """Stream the ``file`` part of a multipart body into an UploadSink (413 past the limit)."""
    limit = get_settings().max_upload_bytes
    boundary = _multipart_boundary(request, limit)
    form = getattr(request, "_form", None)
    if form is not None:  # already parsed (cookie login sent the CSRF token as a form field)
        return await _from_parsed_form(form)
    reader = _FilePartReader(limit)
    parser = MultipartParser(boundary, reader.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if reader.error:
                raise reader.error[0]
        parser.finalize()
    except TooLarge:
        raise
    except Exception as exc:
        if reader.sink is not None:
            reader.sink.discard()
        raise Invalid("file", "the multipart body could not be read") from exc
    if reader.sink is None or not reader.done:
        if reader.sink is not None:
            reader.sink.discard()
        raise Invalid("file", "is required")
    return reader.filename, reader.content_type, reader.sink


def _multipart_boundary(request: Request, limit: int) -> bytes:
    """The body's boundary; 413 at once when the declared length is already past the limit."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + MULTIPART_OVERHEAD:
        raise TooLarge(f"the file is larger than the limit of {limit} bytes", limit=limit)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or not params.get(b"boundary"):
        raise Invalid("file", "send the file as multipart/form-data")
    return params[b"boundary"]


async def _from_parsed_form(form) -> tuple[str | None, str | None, service.UploadSink]:
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise Invalid("file", "is required")
    sink = service.UploadSink()
    await upload.seek(0)
    while chunk := await upload.read(64 * 1024):
        sink.write(chunk)
    return upload.filename, upload.content_type, sink


class _FilePartReader:
    """The multipart parser's callbacks: the first part named ``file`` goes into a sink, the
    other parts are skipped. A size error is kept in ``error`` (callbacks cannot raise it)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.headers: dict[str, bytes] = {}
        self.field, self.value = b"", b""
        self.in_file = False
        self.done = False
        self.sink: service.UploadSink | None = None
        self.filename: str | None = None
        self.content_type: str | None = None
        self.error: list[Exception] = []

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.field.decode("latin-1").lower()] = self.value
        self.field, self.value = b"", b""

    def on_headers_finished(self) -> None:
        _, disp = parse_options_header(self.headers.get("content-disposition", b""))
        self.in_file = disp.get(b"name") == b"file" and not self.done
        if self.in_file:
            self.filename = disp.get(b"filename", b"").decode("utf-8", "replace")
            self.content_type = self.headers.get("content-type", b"").decode("latin-1", "replace")
            self.sink = service.UploadSink(self.limit)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file and self.sink is not None and not self.error:
            try:
                self.sink.write(data[start:end])
            except TooLarge as exc:
                self.error.append(exc)

    def on_part_end(self) -> None:
        if self.in_file:
            self.done = True
        self.in_file = False


async def _upload(request: Request, db: Session, actor: Principal, owner_type: str, owner_id: int):
    # rights first, so that nobody streams a file at a record they may not see
    service.owner_client_id(db, actor, owner_type, owner_id)
    filename, content_type, sink = await receive_file(request)
    item = service.attach(
        db,
        actor,
        owner_type=owner_type,
        owner_id=owner_id,
        filename=filename,
        content_type=content_type,
        sink=sink,
    )
    path = service.path_of(item)
    try:
        db.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return item


@router.post(
    "/clients/{client_id}/attachments",
    response_model=AttachmentOut,
    status_code=201,
    summary="Upload a file on a client (multipart field `file`)",
    openapi_extra=UPLOAD_BODY,
)
async def upload_on_client(
    client_id: RowId,
    request: Request,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return await _upload(request, db, actor, "client", client_id)


@router.post(
    "/interactions/{interaction_id}/attachments",
    response_model=AttachmentOut,
    status_code=201,
    summary="Upload a file on a history entry (multipart field `file`)",
    openapi_extra=UPLOAD_BODY,
)
async def upload_on_interaction(
    interaction_id: RowId,
    request: Request,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return await _upload(request, db, actor, "interaction", interaction_id)


@router.post(
    "/tasks/{task_id}/attachments",
    response_model=AttachmentOut,
    status_code=201,
    summary="Upload a file on a task (multipart field `file`)",
    openapi_extra=UPLOAD_BODY,
)
async def upload_on_task(
    task_id: RowId,
    request: Request,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return await _upload(request, db, actor, "task", task_id)


@router.get(
    "/clients/{client_id}/attachments",
    response_model=list[AttachmentOut],
    summary="A client's files (also those on its history and tasks)",
)
def list_client_files(
    client_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return service.list_for(db, actor, "client", client_id)


@router.get(
    "/interactions/{interaction_id}/attachments",
    response_model=list[AttachmentOut],
    summary="Files on a history entry",
)
def list_interaction_files(
    interaction_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return service.list_for(db, actor, "interaction", interaction_id)


@router.get(
    "/tasks/{task_id}/attachments", response_model=list[AttachmentOut], summary="Files on a task"
)
def list_task_files(
    task_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return service.list_for(db, actor, "task", task_id)


@router.get("/attachments/{attachment_id}", response_model=AttachmentOut, summary="File details")
def get_file(
    attachment_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return service.get_attachment(db, actor, attachment_id)


@router.get(
    "/attachments/{attachment_id}/download",
    response_class=FileResponse,
    summary="Download a file",
)
def download_file(
    attachment_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    item = service.get_attachment(db, actor, attachment_id)
    path = service.path_of(item)
    if not path.is_file():
        raise NotFound(f"the file of attachment {attachment_id} is missing from the store")
    ascii_name = item.filename.encode("ascii", "replace").decode().replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(item.filename)}"
    return FileResponse(
        path,
        media_type=item.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "X-Checksum-SHA256": item.sha256,
        },
    )


@router.delete("/attachments/{attachment_id}", status_code=204, summary="Delete a file")
def delete_file(
    attachment_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    path = service.delete_attachment(db, actor, attachment_id)
    db.commit()
    path.unlink(missing_ok=True)
