"""Backups for admins: the runs, "run now" (in the background), download an archive."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES, ErrorOut, RowId
from crm_core.audit.service import record
from crm_core.auth.deps import admins
from crm_core.auth.principal import Principal
from crm_core.backups import liveness, service
from crm_core.backups.models import BackupRun
from crm_core.backups.scheduler import next_run_at
from crm_core.backups.schemas import BackupOverview, BackupRunOut, RunStarted
from crm_core.config import get_settings
from crm_core.database import request_session
from crm_core.errors import Conflict

router = APIRouter(prefix="/backups", tags=["backups"], responses=ERROR_RESPONSES)


def run_out(run: BackupRun | None) -> BackupRunOut | None:
    if run is None:
        return None
    return BackupRunOut.model_validate(run)


def overview(db: Session, limit: int = 50) -> BackupOverview:
    settings = get_settings()
    liveness.interrupt_stale(db)
    try:
        upcoming = next_run_at(settings)
    except ValueError:
        upcoming = None
    return BackupOverview(
        runs=[run_out(r) for r in service.list_runs(db, limit)],  # type: ignore[misc]
        last_good=run_out(service.last_good(db)),
        running=run_out(liveness.running(db)),
        next_run_at=upcoming,
        directory=str(service.backup_directory(settings).resolve()),
        encrypted=bool(service.passphrase(settings)),
    )


@router.get("", response_model=BackupOverview, summary="Backup runs, the last good one, the next")
def list_backups(actor: Principal = Depends(admins), db: Session = request_session):
    return overview(db)


@router.get("/runs/{run_id}", response_model=BackupRunOut, summary="One backup run")
def get_backup_run(
    run_id: RowId, actor: Principal = Depends(admins), db: Session = request_session
):
    return run_out(service.get_run(db, run_id))


@router.post(
    "/runs",
    response_model=RunStarted,
    status_code=202,
    summary="Start a backup now (background)",
    responses={409: {"model": ErrorOut, "description": "a backup is already running"}},
)
def start_backup(actor: Principal = Depends(admins), db: Session = request_session):
    if liveness.interrupt_stale(db):
        db.commit()  # the run below is recorded by its own session: no lock held here
    if liveness.running(db) is not None:
        raise Conflict("a backup is already running")
    settings = get_settings()
    try:
        begun = service.begin_run(settings, trigger="manual", actor_id=actor.id)
    except OSError as exc:
        raise Conflict(str(exc)) from None
    assert begun is not None  # only scheduled runs have slots
    record(db, actor, "run", "backup", begun[0])
    threading.Thread(
        target=service.carry_out, args=(settings, *begun), name="backup-now", daemon=True
    ).start()
    return RunStarted(run_id=begun[0], status="running")


@router.get(
    "/runs/{run_id}/download",
    response_class=FileResponse,
    summary="Download a run's archive",
)
def download_backup(
    run_id: RowId, actor: Principal = Depends(admins), db: Session = request_session
):
    path = service.archive_of(db, run_id)
    record(db, actor, "download", "backup", run_id)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=path.name,
        headers={"Cache-Control": "no-store"},
    )
