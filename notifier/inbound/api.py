"""Inbound SMS: Twilio's webhook, and the managers' inbox of SMS from unknown numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.errors import Invalid
from notifier.inbound import service
from notifier.inbound.schemas import FileIn, InboundOut, UnknownInbox
from notifier.webhooks import verified_twilio_form

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.get(
    "/inbox/unknown",
    response_model=UnknownInbox,
    summary="SMS from numbers that match no client",
)
def unknown_inbox(
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    _: Principal = Depends(managers),
    db: Session = request_session,
) -> UnknownInbox:
    return service.unknown_inbox(db, limit, offset)


@router.post(
    "/inbox/unknown/{inbound_id}/file",
    response_model=InboundOut,
    summary="File an unknown-number SMS on a client",
)
def file_unknown(
    inbound_id: RowId,
    data: FileIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
) -> InboundOut:
    row = service.file_unknown_message(db, actor, inbound_id, data.client_id)
    return service.inbound_view(row)


@router.post(
    "/twilio/inbound",
    summary="Twilio inbound SMS webhook (X-Twilio-Signature verified)",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, 403: {"description": "bad signature"}},
)
def twilio_inbound(
    params: dict[str, str] = Depends(verified_twilio_form),
    db: Session = request_session,
) -> Response:
    missing = [f for f in ("MessageSid", "From") if not params.get(f)]
    if missing:
        raise Invalid(missing[0], "required")
    service.handle_inbound_sms(
        db,
        from_number=params["From"],
        to_number=params.get("To", ""),
        body=params.get("Body", ""),
        provider_id=params["MessageSid"],
    )
    return Response(TWIML_EMPTY, media_type="application/xml")
