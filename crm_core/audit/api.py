"""The audit trail for admins and managers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from crm_core.apitypes import Moment, QueryId, text
from crm_core.audit import service
from crm_core.audit.schemas import AuditOut, AuditPage
from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.database import request_session

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage, summary="Who changed what, when (newest first)")
def list_entries(
    entity: text(40) | None = Query(None, description="client, task, interaction, user, ..."),
    entity_id: text(64) | None = None,
    actor_id: QueryId = None,
    action: text(20) | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    _: Principal = Depends(managers),
    db: Session = request_session,
):
    rows, total, names = service.search(
        db,
        entity=entity,
        entity_id=entity_id,
        actor_id=actor_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    items = [
        AuditOut.model_validate(r).model_copy(update={"actor": names.get(r.actor_id)}) for r in rows
    ]
    return AuditPage(items=items, total=total)
