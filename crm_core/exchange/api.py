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
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.config import get_settings
from crm_core.database import request_session
from crm_core.errors import Invalid, TooLarge
from crm_core.exchange import service

router = APIRouter(tags=["import/export"])


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
    responses={422: {"model": ImportReportOut, "description": "rejected: nothing was imported"}},
    summary="Import clients from a CSV or XLSX file (dry run for a preview)",
    description=(
        "Multipart form: `file` (CSV with , ; or tab, or XLSX; first row = column names), "
        "optional `mapping` (JSON object: column name -> client field, e.g. "
        '`{"Telefon": "phone", "Firma": "org_name", "Segment": "cf.segment"}`; columns it does '
        'not name are matched by their header, "" leaves a column out). Fields: '
        + ", ".join(service.TARGETS)
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
    from crm_core.clients.schemas import ClientFilter
    from crm_core.clients.service import list_query

    params: dict = {"custom": {}}
    allowed = set(ClientFilter.model_fields) - {
        "custom",
        "sort",
        "limit",
        "offset",
        "page",
        "page_size",
    }
    for key, value in request.query_params.multi_items():
        if key == "format":
            continue
        if key.startswith("cf.") and len(key) > 3:
            params["custom"][key[3:]] = value
        elif key in allowed:
            params[key] = value
        else:
            raise RequestValidationError(
                [{"loc": ("query", key), "msg": f"unknown filter {key!r}", "type": "value_error"}]
            )
    try:
        filters = ClientFilter.model_validate(params)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {"loc": ("query", *e.get("loc", ())), "msg": e.get("msg"), "type": "value_error"}
                for e in exc.errors()
            ]
        ) from None
    try:
        query = list_query(db, actor, filters)
    except Invalid as exc:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", *exc.loc),
                    "msg": exc.message.split(": ", 1)[-1],
                    "type": "value_error",
                }
            ]
        ) from None
    path = service.write_export(service.export_rows(db, actor, query), format)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    media = (
        "text/csv; charset=utf-8"
        if format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return FileResponse(
        path,
        media_type=media,
        filename=f"clients-{stamp}.{format}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
