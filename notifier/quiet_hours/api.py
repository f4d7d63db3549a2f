"""Quiet hours: managers read them, admins change them or go back to the settings' ones."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from crm_core.auth.deps import admins, managers
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from notifier.quiet_hours import service
from notifier.quiet_hours.schemas import QuietHoursIn, QuietHoursOut

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


@router.get("/quiet-hours", response_model=QuietHoursOut, summary="Quiet hours in effect")
def get_quiet_hours(
    _: Principal = Depends(managers), db: Session = request_session
) -> QuietHoursOut:
    return service.view(db)


@router.put("/quiet-hours", response_model=QuietHoursOut, summary="Set the quiet hours")
def put_quiet_hours(
    data: QuietHoursIn, actor: Principal = Depends(admins), db: Session = request_session
) -> QuietHoursOut:
    return service.save(db, actor, **data.model_dump())


@router.delete(
    "/quiet-hours", response_model=QuietHoursOut, summary="Back to the settings' quiet hours"
)
def delete_quiet_hours(
    actor: Principal = Depends(admins), db: Session = request_session
) -> QuietHoursOut:
    return service.reset(db, actor)
