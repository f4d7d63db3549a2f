"""``POST /api/import/clients`` and ``GET /api/export/clients`` (managers and admins)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from crm_core.apitypes import ERROR_RESPONSES, QueryId, ValidationErrorOut
from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.filters import list_query
from crm_core.clients.schemas import ClientFilter
from crm_core.config import get_settings
from crm_core.database import request_session, session_factory
from crm_core.errors import Invalid, TooLarge
from crm_core.exchange import export_formats as formats
from crm_core.exchange import service
from crm_core.exchange.export_lists import client_rows, task_rows
from crm_core.exchange.job_routes import for_reader
from crm_core.exchange.job_routes import router as job_router
from crm_core.exchange.mapping import TARGETS
from crm_core.exchange.vcard_export import vcard_stream
from crm_core.tasks.schemas import Kind, Status

router = APIRouter(tags=["import/export"], responses=ERROR_RESPONSES)
router.include_router(job_router)  # the import wizard's steps: /import/jobs


class RowErrorOut(BaseModel):
    row: int
    column: str
    field: str
    message: str


class LikelyDuplicateOut(BaseModel):
    row: int
    name: str
    city: str
    match_name: str
    score: int
    client_id: int | None
    other_row: int | None


class ImportReportOut(BaseModel):
    dry_run: bool
    total_rows: int
    imported: int
    skipped: int
    rejected: bool
    mapping: dict[str, str]
    errors: list[RowErrorOut]
    created_ids: list[int]
    kind: str = Field(description="csv, xlsx, ods, vcard, google or outlook")
    numbered_by: str = Field(description="row (spreadsheet rows, header = 1) or line (vCard)")
    details: dict[str, str] = Field(description="what was sniffed: encoding, delimiter")
    error_count: int
    error_rows: int
    duplicates: int
    likely_duplicates: list[LikelyDuplicateOut] = Field(
        description="similar names in the same city: imported, listed for a person to review"
    )
    likely_checked: bool


async def _read_limited(upload: UploadFile) -> bytes:
    limit = get_settings().max_upload_bytes
    chunks, size = [], 0
    while chunk := await upload.read(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than the limit of {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/import/clients",
    response_model=ImportReportOut,
    responses={
        422: {
            "model": ImportReportOut | ValidationErrorOut,
            "description": "the file was rejected (nothing was imported: the report lists each "
            "row's errors), or a field of the request was refused",
        }
    },
    summary="Import clients from a CSV or XLSX file (dry run for a preview)",
    description=(
        "Multipart form: `file` (CSV with , ; or tab, or XLSX; first row = column names), "
        "optional `mapping` (JSON object: column name -> client field, e.g. "
        '`{"Telefon": "phone", "Firma": "org_name", "Segment": "cf.segment"}`; columns it does '
        'not name are matched by their header, "" leaves a column out). Fields: '
        + ", ".join(TARGETS)
        + ", cf.<key>. "
        "Strict by default: one bad row rejects the file (422 with every row error, nothing "
        "written). `skip_invalid=true` imports all valid rows in one transaction and lists the "
        "others. `duplicates`: error | skip | force for phones/e-mails already in the base."
    ),
)
async def import_clients(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV or XLSX")],
    mapping: Annotated[str | None, Form(max_length=20_000)] = None,
    dry_run: Annotated[bool, Query()] = False,
    skip_invalid: Annotated[bool, Query()] = False,
    duplicates: Annotated[Literal["error", "skip", "force"], Query()] = "error",
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    columns: dict[str, str] | None = None
    if mapping:
        try:
            columns = json.loads(mapping)
        except ValueError:
            raise Invalid("mapping", "must be a JSON object") from None
        if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
        ):
            raise Invalid("mapping", "must map column names to field names (strings)")
    data = await _read_limited(file)
    report = service.import_clients(
        db,
        actor,
        data,
        filename=file.filename or "",
        mapping=columns,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        duplicates=duplicates,
    )
    body = ImportReportOut.model_validate(for_reader(asdict(report), actor))
    if report.rejected and not dry_run:
        db.rollback()
        return JSONResponse(body.model_dump(), status_code=422)
    return body


ExportFormat = Literal["csv", "xlsx", "ods", "xml", "html", "docx"]


def _download(rows, fmt: str, kind: str) -> Response:
    """Streamed for CSV, XML and HTML (the first byte leaves at once); a file for the rest."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    filename = f"{kind}-{stamp}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return StreamingResponse(
            formats.csv_stream(rows), media_type=formats.MEDIA_TYPES[fmt], headers=disposition
        )
    if fmt == "xml":
        return StreamingResponse(
            formats.xml_stream(rows, kind), media_type=formats.MEDIA_TYPES[fmt], headers=disposition
        )
    if fmt == "html":
        return StreamingResponse(
            formats.html_stream(rows, kind), media_type=formats.MEDIA_TYPES[fmt]
        )
    path = formats.export_file(rows, fmt, kind)
    return FileResponse(
        path,
        media_type=formats.MEDIA_TYPES[fmt],
        filename=filename,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get(
    "/export/clients",
    response_class=FileResponse,
    summary="Export the client list (same filters as GET /api/clients): CSV, XLSX, ODS, XML, "
    "HTML (printable), DOCX (a table) or vCard 4.0",
)
def export_clients(
    request: Request,
    format: ExportFormat | Literal["vcf"] = "csv",
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    query = _export_query(db, actor, _export_filter(request))
    require(actor.can_export, "export clients")
    if format == "vcf":
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        return StreamingResponse(
            _own_session(lambda own: vcard_stream(own, actor, query)),
            media_type=formats.MEDIA_TYPES["vcf"],
            headers={"Content-Disposition": f'attachment; filename="clients-{stamp}.vcf"'},
        )
    return _download(_own_session(lambda own: client_rows(own, actor, query)), format, "clients")


def _own_session(make: Callable[[Session], Iterator]) -> Iterator:
    """The rows read in a session of their own: a streamed body is sent after the request's
    session has closed."""
    own = session_factory()()
    try:
        yield from make(own)
    finally:
        own.close()


@router.get(
    "/export/tasks",
    response_class=FileResponse,
    summary="Export the task list (same filters as GET /api/tasks)",
)
def export_tasks(
    format: ExportFormat = "csv",
    mine: bool = False,
    today: bool = False,
    overdue: bool = False,
    client_id: QueryId = None,
    assignee_id: QueryId = None,
    status: list[Status] | None = Query(None),
    kind: Kind | None = None,
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    rows = list(
        task_rows(
            db,
            actor,
            mine=mine,
            today=today,
            overdue=overdue,
            client_id=client_id,
            assignee_id=assignee_id,
            status=list(status) if status else None,
            kind=kind,
        )
    )
    return _download(rows, format, "tasks")


#: the list's filters apply to the export; its sorting and paging do not
EXPORT_FILTERS = set(ClientFilter.model_fields) - {
    "custom",
    "sort",
    "limit",
    "offset",
    "page",
    "page_size",
}


def _query_error(errors: list[tuple[tuple, str]]) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", *loc), "msg": msg, "type": "value_error"} for loc, msg in errors]
    )


def _export_filter(request: Request) -> ClientFilter:
    """The list filters of the query string (``cf.<key>`` for custom fields); 422 otherwise."""
    params: dict = {"custom": {}}
    for key, value in request.query_params.multi_items():
        if key in ("format", "csrf_token"):
            continue
        if key.startswith("cf.") and len(key) > 3:
            params["custom"][key[3:]] = value
        elif key in EXPORT_FILTERS:
            params[key] = value
        else:
            raise _query_error([((key,), f"unknown filter {key!r}")])
    try:
        return ClientFilter.model_validate(params)
    except ValidationError as exc:
        raise _query_error([(e.get("loc", ()), e.get("msg")) for e in exc.errors()]) from None


def _export_query(db: Session, actor: Principal, filters: ClientFilter) -> Select:
    try:
        return list_query(db, actor, filters)
    except Invalid as exc:
        raise _query_error([(exc.loc, exc.message.split(": ", 1)[-1])]) from None
