"""Provider status callbacks: move each outbox row forward (never back) and keep its history."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.database import utcnow
from notifier.channels.twilio import CALL_STATUS, MESSAGE_STATUS
from notifier.outbox.models import (
    PHONE_CHANNELS,
    PROVIDER_OPTED_OUT,
    OutboxMessage,
    OutboxStatusChange,
)
from notifier.outbox.service import record_opt_out
from notifier.outbox.transitions import Change, announce

log = logging.getLogger("callcard.notifier.status")

#: how far along a message is; a callback only ever moves it to a higher rank
RANK = {
    "pending": 0,
    "retry": 0,
    "claimed": 0,
    "sending": 0,
    "unknown": 0,
    "reconciling": 0,
    "queued": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "cancelled": 3,
}
#: Twilio's delivery error codes, shown to admins next to the status
DELIVERY_ERRORS = {
    "21610": "opted out",
    "30001": "queue overflow at the provider",
    "30002": "account suspended",
    "30003": "unreachable destination handset",
    "30004": "message blocked by the recipient or carrier",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier",
    "30008": "unknown delivery error",
}


def apply_provider_status(
    db: Session,
    *,
    provider_id: str,
    provider_status: str,
    error_code: str = "",
    outbox_id: int | None = None,
    kind: str = "sms",
    source: str = "callback",
) -> OutboxMessage | None:
    """Record what the provider says about one message; returns the row (None if unknown).

    ``outbox_id`` comes from our callback URL and finds a row whose send was never answered
    (so we did not learn its provider id): the callback then is the reconciliation.
    """
    table = CALL_STATUS if kind == "voice" else MESSAGE_STATUS
    status = table.get((provider_status or "").lower())
    if status is None:
        log.info("ignoring provider status %r for %s", provider_status, provider_id)
        return None
    row = _message_reported_on(db, provider_id, outbox_id)
    if row is None:
        return None
    now = utcnow()
    code = (error_code or "").strip()
    detail = DELIVERY_ERRORS.get(code, f"provider error {code}" if code else "")
    if _already_recorded(db, row.id, status, code[:20], source):
        return row  # a replay: nothing new to record or apply
    db.add(
        OutboxStatusChange(
            message_id=row.id,
            status=status,
            at=now,
            source=source,
            error_code=code[:20],
            detail=detail or f"provider status {provider_status}",
        )
    )
    if RANK.get(status, 0) <= RANK.get(row.status, 0):
        return row  # out of order or repeated: history kept, status unchanged
    _move_forward(db, row, provider_id, status, code, detail, now)
    announce([Change(row.id, status, source)])
    return row


#: a send went out but its answer (and so the provider's id) never came back
UNANSWERED_SENDS = ("sending", "unknown", "reconciling")


def _already_recorded(db: Session, message_id: int, status: str, code: str, source: str) -> bool:
    """The same report (status, error code, source) is in the message's history already."""
    return (
        db.scalar(
            select(OutboxStatusChange.id)
            .where(
                OutboxStatusChange.message_id == message_id,
                OutboxStatusChange.status == status,
                OutboxStatusChange.error_code == code,
                OutboxStatusChange.source == source,
            )
            .limit(1)
        )
        is not None
    )


def _message_reported_on(
    db: Session, provider_id: str, outbox_id: int | None
) -> OutboxMessage | None:
    """The row (locked) by our id from the callback URL, else by the provider's id.

    A callback is about a message only under the provider id it was sent with. Our id alone
    adopts a provider id only for a send that went out unanswered (``UNANSWERED_SENDS``) and
    only an id no other message has: a message never sent is never reported delivered."""
    if not provider_id:
        return None
    if outbox_id is not None:
        row = db.get(OutboxMessage, outbox_id, with_for_update=True)
        if (
            row is not None
            and row.provider_id != provider_id
            and not _adoptable(db, row, provider_id)
        ):
            log.warning(
                "callback for %s names outbox #%s (%s, sent as %r): ignored",
                provider_id,
                outbox_id,
                row.status,
                row.provider_id,
            )
            return None
        if row is not None:
            return row
    return db.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_id == provider_id).with_for_update()
    )


def _adoptable(db: Session, row: OutboxMessage, provider_id: str) -> bool:
    if row.provider_id or row.status not in UNANSWERED_SENDS:
        return False
    taken = db.scalar(select(OutboxMessage.id).where(OutboxMessage.provider_id == provider_id))
    return taken is None


def _move_forward(
    db: Session,
    row: OutboxMessage,
    provider_id: str,
    status: str,
    code: str,
    detail: str,
    now: datetime,
) -> None:
    """Apply a newer status; a provider opt-out error is remembered for the recipient."""
    if not row.provider_id:
        row.provider_id = provider_id
    if row.sent_at is None:
        row.sent_at = now
    row.status = status
    row.claimed_by = ""
    row.claimed_until = None
    if code:
        row.error_code = code[:20]
        row.error_message = detail
    row.updated_at = now
    if code == PROVIDER_OPTED_OUT and row.channel in PHONE_CHANNELS:
        record_opt_out(db, row.recipient, row.channel, "provider 21610")
    db.flush()
