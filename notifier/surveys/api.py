"""Rating surveys: CSAT per operator and team, and the recent surveys."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from crm_core.auth.deps import managers, staff
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from notifier.surveys import csat, service
from notifier.surveys.schemas import CsatOut, SurveyOut

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


@router.get("/csat", response_model=CsatOut, summary="CSAT per operator and per team for a period")
def get_csat(
    period: Literal["today", "7d", "30d", "90d", "365d"] = "7d",
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> CsatOut:
    return CsatOut.model_validate(csat.csat(db, actor, period))


@router.get("/surveys", response_model=list[SurveyOut], summary="Recent surveys, newest first")
def list_surveys(
    status: Literal["open", "answered"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    _: Principal = Depends(managers),
    db: Session = request_session,
) -> list[SurveyOut]:
    return service.recent_surveys(db, status, limit)
