"""Tables of the engagement side of the notifier: reminder rules, templates, surveys, inbound SMS,
newsletters. (The outbox and opt-outs belong to the delivery engine, ``notifier.outbox``.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow

REMINDER_CHANNELS = ("sms", "email", "voice")  # voice: the voicebots "reminder" script
SURVEY_SOURCES = ("call", "visit", "order")
SURVEY_STATUSES = ("open", "answered", "expired")


class ReminderRule(Base):
    """Send the client of an event of ``event_type`` a reminder ``offset_minutes`` before it starts."""

    __tablename__ = "reminder_rules"
    __table_args__ = (UniqueConstraint("event_type", "channel", "offset_minutes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # sms | email | voice
    offset_minutes: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageTemplate(Base):
    """An admin's version of a built-in message template (key + language)."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("key", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(250), default="")
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Survey(Base):
    """One rating request: sent after a call/visit/order, answered by an SMS reply."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        Index("ix_surveys_phone_status", "phone_e164", "status"),
        Index("ix_surveys_client_created", "client_id", "created_at"),
        Index("ix_surveys_answered", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8), default="en")
    source: Mapped[str] = mapped_column(String(10))  # call | visit | order
    source_ref: Mapped[str] = mapped_column(String(64))  # calls.id / tasks.id / interactions.id
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    operator_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    rating: Mapped[int | None]
    reply: Mapped[str] = mapped_column(Text, default="")
    clarified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    low_rating_task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL")
    )


class InboundSms(Base):
    """Every SMS a client (or anyone) sent us; unknown numbers form the unknown-numbers inbox."""

    __tablename__ = "inbound_sms"
    __table_args__ = (Index("ix_inbound_sms_client_received", "client_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)  # Twilio MessageSid
    from_number: Mapped[str] = mapped_column(String(40))
    from_e164: Mapped[str] = mapped_column(String(20), default="", index=True)
    to_number: Mapped[str] = mapped_column(String(40), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    # opt_out | opt_in | help | rating | clarification | survey_reply | history | unknown
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"))
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL")
    )


class Watermark(Base):
    """The last row a periodic scan handled (e.g. the highest ``calls.id`` considered for surveys)."""

    __tablename__ = "notifier_watermarks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SavedSegment(Base):
    """A named set of client-list filters, reused as newsletter recipients."""

    __tablename__ = "saved_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Newsletter(Base):
    """An e-mail campaign: a sandboxed template, its recipients' filters, its test and send state."""

    __tablename__ = "newsletters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_segments.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | sent
    tested_hash: Mapped[str] = mapped_column(String(64), default="")
    tested_to: Mapped[str] = mapped_column(String(254), default="")
    tested_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NewsletterUnsubscribe(Base):
    """An address that asked for no more newsletters (by the signed link in each e-mail)."""

    __tablename__ = "newsletter_unsubscribes"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_lower: Mapped[str] = mapped_column(String(254), unique=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    newsletter_id: Mapped[int | None] = mapped_column(
        ForeignKey("newsletters.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
