"""``POST /api/import/clients`` and ``GET /api/export/clients`` (managers and admins)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import Select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from crm_core.apitypes import ERROR_RESPONSES, ValidationErrorOut
from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.clients.filters import list_query
from crm_core.clients.schemas import ClientFilter
from crm_core.config import get_settings
from crm_core.database import request_session
from crm_core.errors import Invalid, TooLarge
from crm_core.exchange import export, service
from crm_core.exchange.mapping import TARGETS

router = APIRouter(tags=["import/export"], responses=ERROR_RESPONSES)


class RowErrorOut(BaseModel):
    row: int
    column: str
    field: str
    message: str


class ImportReportOut(BaseModel):
    dry_run: bool
    total_rows: int
    imported: int
    skipped: int
    rejected: bool
    mapping: dict[str, str]
    errors: list[RowErrorOut]
    created_ids: list[int]


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
    body = ImportReportOut.model_validate(asdict(report))
    if report.rejected and not dry_run:
        db.rollback()
        return JSONResponse(body.model_dump(), status_code=422)
    return body


@router.get(
    "/export/clients",
    response_class=FileResponse,
    summary="Export the client list (same filters as GET /api/clients) as CSV or XLSX",
)
def export_clients(
    request: Request,
    format: Literal["csv", "xlsx"] = "csv",
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    query = _export_query(db, actor, _export_filter(request))
    path = export.write_export(export.export_rows(db, actor, query), format)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[format],
        filename=f"clients-{stamp}.{format}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
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
        if key == "format":
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
