"""Notifier routes: the admins' outbox API and the Twilio status callbacks.

Mounted as is by the app factory; every path starts with ``/api/notifier``. The other notifier
modules' routers are listed in ``EXTRA_ROUTERS`` (bottom of this file).
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_core.apitypes import MAX_ID, QueryId, RowId, text
from crm_core.auth.deps import admins
from crm_core.auth.principal import Principal
from crm_core.database import request_session, utcnow
from crm_core.errors import Conflict, NotFound
from notifier.outbox.models import CHANNELS, STATUSES, OutboxMessage, OutboxStatusChange
from notifier.outbox.schemas import OutboxCounts, OutboxMessageDetail, OutboxPage
from notifier.status import apply_provider_status
from notifier.webhooks import verified_twilio_form

engine_router = APIRouter(prefix="/api/notifier")


@engine_router.get(
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
    from crm_core.errors import Invalid

    if status is not None and status not in STATUSES:
        raise Invalid("status", f"must be one of {', '.join(STATUSES)}")
    if channel is not None and channel not in CHANNELS:
        raise Invalid("channel", f"must be one of {', '.join(CHANNELS)}")
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        q = q.where(OutboxMessage.status == status)
    if channel:
        q = q.where(OutboxMessage.channel == channel)
    if purpose:
        q = q.where(OutboxMessage.purpose == purpose)
    if recipient:
        q = q.where(OutboxMessage.recipient == recipient)
    if client_id is not None:
        q = q.where(OutboxMessage.client_id == client_id)
    if before_id is not None:
        q = q.where(OutboxMessage.id < before_id)
    items = list(db.scalars(q))
    return OutboxPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)


@engine_router.get(
    "/outbox/counts", response_model=OutboxCounts, tags=["outbox"], summary="Messages per status"
)
def outbox_counts(db: Session = request_session, _: Principal = Depends(admins)) -> OutboxCounts:
    rows = db.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return OutboxCounts(by_status={status: count for status, count in rows})


def _message(db: Session, message_id: int) -> OutboxMessage:
    row = db.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .options(selectinload(OutboxMessage.history))
    )
    if row is None:
        raise NotFound("No such outbox message")
    return row


@engine_router.get(
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
    return _message(db, message_id)


@engine_router.post(
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
    row = _message(db, message_id)
    if row.status not in ("failed", "cancelled"):
        raise Conflict(
            f"Only failed or cancelled messages can be retried (this one is {row.status})"
        )
    if row.error_code == "opted-out" or row.error_code == "21610":
        raise Conflict("The recipient opted out; this message will not be sent")
    now = utcnow()
    row.status = "retry"
    row.next_attempt_at = now
    row.attempts = 0
    row.updated_at = now
    row.history.append(OutboxStatusChange(status="retry", at=now, source="admin"))
    db.flush()
    return row


@engine_router.post(
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
    from notifier.outbox.service import WITHDRAWABLE

    row = _message(db, message_id)
    if row.status not in WITHDRAWABLE:
        raise Conflict(f"Too late to cancel: the message is {row.status}")
    now = utcnow()
    row.status = "cancelled"
    row.claimed_by = ""
    row.claimed_until = None
    row.updated_at = now
    row.history.append(OutboxStatusChange(status="cancelled", at=now, source="admin"))
    db.flush()
    return row


@engine_router.post(
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


@engine_router.post(
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


#: what the app mounts: the engine's routes plus those of the other notifier modules
#: (reminders, surveys, inbound SMS, newsletters: each module's ``router``, mounted as is)
EXTRA_ROUTERS: list[str] = ["notifier.engagement_api"]

router = APIRouter()
router.include_router(engine_router)
for _name in EXTRA_ROUTERS:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    router.include_router(_module.router)
