"""``/api/import/jobs``: the import wizard's steps over HTTP (managers and admins).

Upload a file (the job waits in ``analysing`` with the file's columns, first rows and the
suggested mapping) -> ``PUT .../mapping`` (saved for files with the same columns) ->
``POST .../dry-run`` (the report: row errors, duplicates, likely duplicates; nothing written)
-> ``POST .../run`` (checked again, then imported in the background; ``import.progress`` on
the bus) -> ``GET`` the job until ``done`` or ``failed``.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.config import get_settings
from crm_core.database import request_session, utcnow
from crm_core.errors import Invalid, TooLarge
from crm_core.exchange import jobs, service
from crm_core.exchange.formats import open_table
from crm_core.exchange.mapping import TARGETS, check_mapping, guess_mapping
from crm_core.exchange.models import ImportJob
from crm_core.exchange.records import worded_errors
from crm_core.wording import reader, reading_as

router = APIRouter(prefix="/import/jobs")
PREVIEW_ROWS = 5
#: the wizard's state before the user starts the import: nothing runs it
ANALYSING = "analysing"


class JobOut(BaseModel):
    id: int
    filename: str
    kind: str = Field(description="csv, xlsx, ods, vcard, google or outlook")
    state: str = Field(description="analysing, queued, checking, importing, done or failed")
    details: dict[str, str] = Field(description="what was sniffed: encoding, delimiter")
    headers: list[str]
    preview: list[list[str]] = Field(description="the first rows, as the file has them")
    preset: bool = Field(description="a contact program's export: its columns need no mapping")
    mapping: dict[str, str] = Field(description="column -> client field ('' leaves it out)")
    mapping_saved: bool = Field(description="the mapping came from an earlier file's columns")
    duplicates: str
    skip_invalid: bool
    total_rows: int
    done_rows: int
    percent: int
    imported: int
    skipped: int
    error_count: int
    message: str
    report: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class MappingIn(BaseModel):
    mapping: dict[str, str] = Field(
        description="column -> client field or cf.<key>; '' = leave out"
    )
    duplicates: Literal["error", "skip", "force"] = "skip"
    skip_invalid: bool = False


class TargetsOut(BaseModel):
    fields: list[str]


def _table(job: ImportJob):
    return open_table(Path(job.path), job.filename)


def _message(job: ImportJob, actor: Principal) -> str:
    with reading_as(actor):
        return jobs.told(job, reader())


def for_reader(report: dict[str, Any], actor: Principal) -> dict[str, Any]:
    """A report's row errors in the words of ``actor`` (their language): stored in English."""
    if not report.get("errors"):
        return report
    with reading_as(actor):
        return {**report, "errors": worded_errors(report["errors"], reader())}


def job_out(job: ImportJob, actor: Principal, table=None) -> JobOut:
    """The job as ``actor`` reads it in the wizard; ``table`` (open) adds the columns and
    first rows."""
    headers, preview, preset = job.options.get("headers", []), [], False
    if table is not None:
        headers = table.headers
        preview = [cells for _, cells in islice(table.rows, PREVIEW_ROWS)]
        preset = table.preset
    total = job.total_rows
    percent = 100 if job.state == "done" else (job.done_rows * 100 // total if total else 0)
    return JobOut(
        id=job.id,
        filename=job.filename,
        kind=job.kind,
        state=job.state,
        details=dict(job.options.get("details", {})),
        headers=headers,
        preview=preview,
        preset=preset or bool(job.options.get("preset")),
        mapping=dict(job.mapping or {}),
        mapping_saved=bool(job.options.get("mapping_saved")),
        duplicates=job.options.get("duplicates", "skip"),
        skip_invalid=bool(job.options.get("skip_invalid")),
        total_rows=total,
        done_rows=job.done_rows,
        percent=min(percent, 100),
        imported=job.imported,
        skipped=job.skipped,
        error_count=job.error_count,
        message=_message(job, actor),
        report=for_reader(dict(job.report or {}), actor),
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def _chunks(upload: UploadFile):
    limit, size = get_settings().max_upload_bytes, 0
    while chunk := upload.file.read(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than the limit of {limit} bytes", limit=limit)
        yield chunk


@router.get("/fields", response_model=TargetsOut, summary="The client fields a column can fill")
def import_fields(actor: Principal = Depends(managers)):
    return TargetsOut(fields=list(TARGETS))


@router.post(
    "",
    response_model=JobOut,
    status_code=201,
    summary="Upload a file to import: its columns, first rows and the suggested mapping",
)
def upload_job(
    file: Annotated[UploadFile, File(description="CSV, XLSX, ODS or vCard")],
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    filename = file.filename or ""
    path = jobs.store_upload(_chunks(file), filename)
    try:
        job = jobs.create_job(db, actor, path, filename)
        table = _table(job)
        first = list(islice(table.rows, PREVIEW_ROWS))  # a bad first row or line: refused now
    except Exception:
        path.unlink(missing_ok=True)
        raise
    saved = None if table.preset else jobs.saved_mapping(db, table)
    guessed = guess_mapping(db, table.headers)
    suggested = saved or {h: guessed.get(h, "") for h in table.headers}
    job.state, job.mapping = ANALYSING, suggested
    job.options = {
        **job.options,
        "headers": table.headers,
        "details": table.details,
        "preset": table.preset,
        "mapping_saved": saved is not None,
    }
    db.flush()
    out = job_out(job, actor)
    out.preview, out.preset = [cells for _, cells in first], table.preset
    return out


def _analysing(db: Session, actor: Principal, job_id: int) -> ImportJob:
    job = jobs.get_job(db, actor, job_id)
    if job.state != ANALYSING:
        raise Invalid("state", f"the job is {job.state} already: upload the file again")
    return job


@router.get("/{job_id}", response_model=JobOut, summary="An import job: its state and progress")
def get_job(job_id: RowId, actor: Principal = Depends(managers), db: Session = request_session):
    job = jobs.get_job(db, actor, job_id)
    return job_out(job, actor, _table(job) if job.state == ANALYSING else None)


@router.put(
    "/{job_id}/mapping",
    response_model=JobOut,
    summary="Set the job's mapping and options (the mapping is kept for files with these columns)",
)
def put_mapping(
    job_id: RowId,
    body: MappingIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    job = _analysing(db, actor, job_id)
    table = _table(job)
    if not table.preset:
        if not check_mapping(db, table.headers, body.mapping):
            raise Invalid("mapping", "no column matches a client field")
        jobs.save_mapping(db, actor, table, body.mapping)
    job.mapping = dict(body.mapping)
    job.options = {**job.options, "duplicates": body.duplicates, "skip_invalid": body.skip_invalid}
    job.updated_at = utcnow()
    db.flush()
    return job_out(job, actor, table)


@router.post(
    "/{job_id}/dry-run",
    response_model=dict[str, Any],
    summary="Check the whole file with the job's mapping; nothing is written",
)
def dry_run(job_id: RowId, actor: Principal = Depends(managers), db: Session = request_session):
    job = _analysing(db, actor, job_id)
    report = service.import_clients(
        db,
        actor,
        Path(job.path),
        filename=job.filename,
        mapping=job.mapping or None,
        dry_run=True,
        skip_invalid=bool(job.options.get("skip_invalid")),
        duplicates=job.options.get("duplicates", "skip"),
    )
    data = jobs.report_dict(report)
    job.report, job.total_rows, job.error_count = data, report.total_rows, report.error_count
    job.updated_at = utcnow()
    db.flush()
    return for_reader(data, actor)


@router.post(
    "/{job_id}/run",
    response_model=JobOut,
    status_code=202,
    summary="Start the import in the background (progress: GET the job, or import.progress)",
)
def run(job_id: RowId, actor: Principal = Depends(managers), db: Session = request_session):
    job = _analysing(db, actor, job_id)
    job.state, job.done_rows, job.updated_at = "queued", 0, utcnow()
    db.commit()  # the worker thread reads the job in its own session
    jobs.start_in_background(job.id)
    return job_out(job, actor)
