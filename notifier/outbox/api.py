"""Outbox routes for admins, and the Twilio status callbacks that move messages forward."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from crm_core.apitypes import MAX_ID, QueryId, RowId, text
from crm_core.auth.deps import admins
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from notifier.outbox import admin
from notifier.outbox.models import CHANNELS, STATUSES, OutboxMessage
from notifier.outbox.provider_status import apply_provider_status
from notifier.outbox.schemas import OutboxCounts, OutboxMessageDetail, OutboxPage
from notifier.webhooks import verified_twilio_form

router = APIRouter(prefix="/api/notifier")


@router.get(
    "/outbox", response_model=OutboxPage, tags=["outbox"], summary="Outbox messages, newest first"
)
def list_outbox(
    status: str | None = Query(None, description=f"one of {', '.join(STATUSES)}"),
    channel: str | None = Query(None, description=f"one of {', '.join(CHANNELS)}"),
    purpose: text(40) | None = None,
    recipient: text(320) | None = None,
    client_id: QueryId = None,
    before_id: int | None = Query(None, ge=1, le=MAX_ID, description="page: ids below this one"),
    limit: int = Query(50, ge=1, le=500),
    db: Session = request_session,
    _: Principal = Depends(admins),
) -> OutboxPage:
    items = admin.list_messages(
        db,
        status=status,
        channel=channel,
        purpose=purpose,
        recipient=recipient,
        client_id=client_id,
        before_id=before_id,
        limit=limit,
    )
    return OutboxPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)


@router.get(
    "/outbox/counts", response_model=OutboxCounts, tags=["outbox"], summary="Messages per status"
)
def outbox_counts(db: Session = request_session, _: Principal = Depends(admins)) -> OutboxCounts:
    return OutboxCounts(by_status=admin.count_by_status(db))


@router.get(
    "/outbox/{message_id}",
    response_model=OutboxMessageDetail,
    tags=["outbox"],
    summary="One message with its status history",
)
def get_outbox_message(
    message_id: RowId,
    db: Session = request_session,
    _: Principal = Depends(admins),
) -> OutboxMessage:
    return admin.get_message(db, message_id)


@router.post(
    "/outbox/{message_id}/retry",
    response_model=OutboxMessageDetail,
    tags=["outbox"],
    summary="Send a failed or cancelled message again",
)
def retry_outbox_message(
    message_id: RowId,
    db: Session = request_session,
    _: Principal = Depends(admins),
) -> OutboxMessage:
    return admin.retry_message(db, message_id)


@router.post(
    "/outbox/{message_id}/cancel",
    response_model=OutboxMessageDetail,
    tags=["outbox"],
    summary="Withdraw a message that has not left yet",
)
def cancel_outbox_message(
    message_id: RowId,
    db: Session = request_session,
    _: Principal = Depends(admins),
) -> OutboxMessage:
    return admin.cancel_message(db, message_id)


@router.post(
    "/twilio/status",
    status_code=204,
    tags=["webhooks"],
    summary="Twilio message status callback (signed)",
)
def twilio_message_status(
    outbox_id: QueryId = None,
    form: dict[str, str] = Depends(verified_twilio_form),
    db: Session = request_session,
) -> Response:
    apply_provider_status(
        db,
        provider_id=form.get("MessageSid") or form.get("SmsSid") or "",
        provider_status=form.get("MessageStatus") or form.get("SmsStatus") or "",
        error_code=form.get("ErrorCode") or "",
        outbox_id=outbox_id,
        kind="sms",
    )
    return Response(status_code=204)


@router.post(
    "/twilio/call-status",
    status_code=204,
    tags=["webhooks"],
    summary="Twilio call status callback (signed)",
)
def twilio_call_status(
    outbox_id: QueryId = None,
    form: dict[str, str] = Depends(verified_twilio_form),
    db: Session = request_session,
) -> Response:
    apply_provider_status(
        db,
        provider_id=form.get("CallSid") or "",
        provider_status=form.get("CallStatus") or "",
        error_code=form.get("ErrorCode") or "",
        outbox_id=outbox_id,
        kind="voice",
    )
    return Response(status_code=204)
