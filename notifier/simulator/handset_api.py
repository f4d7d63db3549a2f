"""The simulated handset's routes (a demo tool; console SMS channel only, else 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from notifier.simulator import handset_service as handset
from notifier.simulator.handset_schemas import (
    HandsetConversation,
    HandsetThread,
    ReplyIn,
    ReplyOut,
)

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


@router.get(
    "/handset",
    response_model=list[HandsetConversation],
    summary="Simulated handset: the numbers Callcard texted last, newest first",
)
def handset_conversations(
    limit: Annotated[int, Query(ge=1, le=50)] = 12,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> list[HandsetConversation]:
    return handset.conversations(db, actor, limit)


@router.get(
    "/handset/{number}",
    response_model=HandsetThread,
    summary="Simulated handset: the SMS conversation with a number",
)
def handset_messages(
    number: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> HandsetThread:
    return handset.thread(db, actor, number, limit)


@router.post(
    "/handset/{number}/reply",
    response_model=ReplyOut,
    summary="Simulated handset: reply as the client",
)
def handset_reply(
    number: str,
    data: ReplyIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> ReplyOut:
    return handset.reply(db, actor, number, data.body)
