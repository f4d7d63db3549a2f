"""``/api/calls...`` and ``/api/presence``: the call log, notes, calls to return, click-to-call."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crm_core.apitypes import ERROR_RESPONSES, IsoMoment, QueryId, RowId
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.errors import Invalid
from cti import clicktocall, presence
from cti.calllog import service
from cti.calllog.schemas import (
    CallOut,
    CallPage,
    CallToReturn,
    NoteIn,
    NoteOut,
    OperatorState,
    OriginateIn,
    OriginateOut,
)

router = APIRouter(tags=["calls"], responses=ERROR_RESPONSES)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid(["query", name], "must include a timezone, e.g. 2024-05-01T10:00:00Z")
    return value


@router.get("/api/calls", response_model=CallPage, summary="The call log, newest first")
def list_calls(
    since: IsoMoment | None = Query(None, description="calls that started at or after"),
    until: IsoMoment | None = Query(None, description="calls that started before"),
    disposition: str | None = Query(None, description="answered|missed|abandoned|busy|failed"),
    extension: str | None = Query(None, max_length=32),
    client_id: QueryId = None,
    direction: str | None = Query(None, description="inbound|outbound|internal"),
    number: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    actor: Principal = Depends(staff),
    db: Session = request_session,
) -> CallPage:
    rows, total = service.list_calls(
        db,
        actor,
        since=_aware(since, "since"),
        until=_aware(until, "until"),
        disposition=disposition,
        extension=extension,
        client_id=client_id,
        direction=direction,
        number=number,
        limit=limit,
        offset=offset,
    )
    return CallPage(
        items=[CallOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/api/calls/to-return",
    response_model=list[CallToReturn],
    summary="Missed calls waiting for a callback by me or my team",
)
def to_return(actor: Principal = Depends(staff), db: Session = request_session):
    return service.calls_to_return(db, actor)


@router.post(
    "/api/calls/to-return/{task_id}/done",
    status_code=204,
    summary="Mark a call to return as done (called back by other means)",
)
def callback_done(
    task_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    service.complete_callback(db, actor, task_id)


@router.get("/api/presence", response_model=list[OperatorState], summary="Operators' live state")
def get_presence(actor: Principal = Depends(staff)):
    return presence.presence_snapshot()


@router.post(
    "/api/calls/originate",
    response_model=OriginateOut,
    status_code=202,
    summary="Click-to-call: ring my phone, then dial the number",
    responses={
        409: {"description": "your extension is busy"},
        422: {"description": "no extension bound to you, or a bad number"},
        503: {"description": "PBX unreachable or no CTI process"},
    },
)
async def originate(
    body: OriginateIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    request = await run_in_threadpool(
        clicktocall.prepare,
        db,
        actor,
        number=body.number,
        client_id=body.client_id,
        phone_id=body.phone_id,
    )
    return await clicktocall.originate(request)


@router.put(
    "/api/calls/{call_id}/note",
    response_model=NoteOut,
    summary="The call's note",
    responses={404: {"description": "no call of yours with this id"}},
)
def put_note(
    call_id: str,
    body: NoteIn,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    """``call_id`` is the call's id as in the popups (Asterisk Linkedid); the note may be written
    while the call is still going on."""
    return service.save_note(db, actor, call_id, body.body)


@router.get("/api/calls/{call_id}", response_model=CallOut, summary="One call")
def get_call(
    call_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return service.get_call(db, actor, call_id)
