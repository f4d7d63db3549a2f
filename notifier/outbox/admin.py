"""What admins do on the outbox page: browse messages, count them, retry or cancel one.

(``service`` is what the other parts call to send; this is the admins' side of the same rows.)
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_core.database import utcnow
from crm_core.errors import Conflict, Invalid, NotFound
from notifier.outbox.models import (
    CHANNELS,
    PROVIDER_OPTED_OUT,
    STATUSES,
    OutboxMessage,
    OutboxStatusChange,
)
from notifier.outbox.service import WITHDRAWABLE


def list_messages(
    db: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    purpose: str | None = None,
    recipient: str | None = None,
    client_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[OutboxMessage]:
    """Newest first, filtered; ``before_id`` pages backwards. ``Invalid`` names a bad filter."""
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
    return list(db.scalars(q))


def count_by_status(db: Session) -> dict[str, int]:
    rows = db.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: count for status, count in rows}


def get_message(db: Session, message_id: int) -> OutboxMessage:
    """One message with its status history loaded; ``NotFound`` otherwise."""
    row = db.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .options(selectinload(OutboxMessage.history))
    )
    if row is None:
        raise NotFound("No such outbox message")
    return row


def retry_message(db: Session, message_id: int) -> OutboxMessage:
    """Send a failed or cancelled message again from scratch (never to an opted-out number)."""
    row = get_message(db, message_id)
    if row.status not in ("failed", "cancelled"):
        raise Conflict(
            f"Only failed or cancelled messages can be retried (this one is {row.status})"
        )
    if row.error_code in ("opted-out", PROVIDER_OPTED_OUT):
        raise Conflict("The recipient opted out; this message will not be sent")
    now = utcnow()
    row.status = "retry"
    row.next_attempt_at = now
    row.attempts = 0
    row.updated_at = now
    row.history.append(OutboxStatusChange(status="retry", at=now, source="admin"))
    db.flush()
    return row


def cancel_message(db: Session, message_id: int) -> OutboxMessage:
    """Withdraw a message that has not left yet; ``Conflict`` once it has."""
    row = get_message(db, message_id)
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
