"""Reminder rules: managers read them, admins add, change and remove them."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth.deps import admins, managers
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from notifier.reminders import service
from notifier.reminders.rules import list_rules
from notifier.reminders.schemas import RuleIn, RuleOut, RuleUpdate

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


@router.get(
    "/reminder-rules",
    response_model=list[RuleOut],
    summary="Reminder rules (built-in defaults while none are saved)",
)
def get_rules(_: Principal = Depends(managers), db: Session = request_session) -> list[RuleOut]:
    return list_rules(db)


@router.post(
    "/reminder-rules", response_model=RuleOut, status_code=201, summary="Add a reminder rule"
)
def add_rule(
    data: RuleIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> RuleOut:
    return service.add_rule(db, actor, **data.model_dump())


@router.post(
    "/reminder-rules/keep-defaults",
    response_model=list[RuleOut],
    summary="Save the built-in rules as rules that can each be changed",
)
def keep_defaults(
    actor: Principal = Depends(admins), db: Session = request_session
) -> list[RuleOut]:
    return service.keep_default_rules(db, actor)


@router.patch("/reminder-rules/{rule_id}", response_model=RuleOut, summary="Change a reminder rule")
def update_rule(
    rule_id: RowId,
    data: RuleUpdate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> RuleOut:
    return service.update_rule(db, actor, rule_id, data.model_dump(exclude_unset=True))


@router.delete("/reminder-rules/{rule_id}", status_code=204, summary="Remove a reminder rule")
def delete_rule(
    rule_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
) -> Response:
    service.delete_rule(db, actor, rule_id)
    return Response(status_code=204)
