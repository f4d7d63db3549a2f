"""Outbox rows, their status history, and opted-out recipients.

A message moves through these statuses (``STATUSES``):

``pending``/``retry`` (waiting for ``next_attempt_at``) -> ``claimed`` (leased by a dispatcher,
not yet handed to the provider) -> ``sending`` (the request may have left) -> ``queued``/``sent``
(the provider accepted it; ``provider_id`` set) -> ``delivered``/``undelivered``/``failed`` (from
status callbacks). ``unknown``: the request left but no answer came back; it is reconciled with
the provider (``reconciling``) before anything is retried. ``cancelled``: withdrawn before it was
sent. A lease that expires in ``claimed`` goes back to ``retry`` (nothing left); one that expires
in ``sending`` becomes ``unknown`` (something may have left).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.database import Base, utcnow

CHANNELS = ("sms", "email", "voice")
#: channels that reach a phone: quiet hours apply, and an SMS opt-out covers both
PHONE_CHANNELS = ("sms", "voice")
#: the provider's error code for a recipient who opted out (Twilio 21610), as stored
PROVIDER_OPTED_OUT = "21610"
#: waiting to be claimed once ``next_attempt_at`` has passed
DUE_STATUSES = ("pending", "retry")
STATUSES = (
    "pending",
    "retry",
    "claimed",
    "sending",
    "unknown",
    "reconciling",
    "queued",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "cancelled",
)

_DUE_SQL = "status IN ('pending', 'retry')"
_INFLIGHT_SQL = "status IN ('claimed', 'sending', 'unknown', 'reconciling')"


class OutboxMessage(Base):
    """One SMS, voice call or e-mail to one recipient; written in the caller's transaction."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The claim query: due rows in due order. Partial, so it only holds waiting rows and
        # stays small however many sent messages the table keeps.
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            postgresql_where=text(_DUE_SQL),
            sqlite_where=text(_DUE_SQL),
        ),
        # Lease expiry and reconciliation: the (few) rows in flight.
        Index(
            "ix_outbox_inflight",
            "status",
            "claimed_until",
            postgresql_where=text(_INFLIGHT_SQL),
            sqlite_where=text(_INFLIGHT_SQL),
        ),
        Index("ix_outbox_recipient_created", "recipient", "created_at"),
        # Status callbacks find a message by the provider's id; rows waiting to be sent have
        # none, so they stay out of the index (nothing to update when reminders are scheduled).
        Index(
            "ix_outbox_messages_provider_id",
            "provider_id",
            postgresql_where=text("provider_id IS NOT NULL"),
            sqlite_where=text("provider_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    # not indexed: only the admin outbox page filters on it (newest first, by id)
    purpose: Mapped[str] = mapped_column(String(40), default="")
    template: Mapped[str] = mapped_column(String(80), default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]  # when the last request to the provider left
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    provider_id: Mapped[str | None] = mapped_column(String(64))  # ix_outbox_messages_provider_id
    error_code: Mapped[str] = mapped_column(String(20), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(80), default="")
    claimed_until: Mapped[datetime | None]
    segments: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    history: Mapped[list[OutboxStatusChange]] = relationship(
        back_populates="message",
        cascade="all, delete-orphan",
        order_by="OutboxStatusChange.id",
        passive_deletes=True,
    )


class OutboxStatusChange(Base):
    """Every status a message went through, with where the news came from."""

    __tablename__ = "outbox_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20), default="")  # enqueue|dispatch|callback|...
    error_code: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[OutboxMessage] = relationship(back_populates="history")


class OptOut(Base):
    """A recipient who asked not to be contacted on a channel; checked at claim time.

    ``number`` is the E.164 number (``sms``/``voice``) or the lower-cased address (``email``).
    """

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("number", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(60), default="")
