"""The call log: one row per finished call (keyed by Asterisk's Linkedid), its legs and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.database import Base, utcnow

DIRECTIONS = ("inbound", "outbound", "internal")
DISPOSITIONS = ("answered", "missed", "abandoned", "busy", "failed")


class Call(Base):
    """A finished call. ``linkedid`` is unique: a resync or reconnect can never store it twice."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_client_started", "client_id", "started_at"),
        Index("ix_calls_queue_started", "queue", "started_at"),
        # the call log's totals over a period read this index alone (no table rows): every
        # column its filters and sums touch, after the date
        Index(
            "ix_calls_started_totals",
            "started_at",
            "direction",
            "disposition",
            "queue",
            "answered_extension",
            "client_id",
            "answered_user_id",
            "wait_s",
            "talk_s",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(64), default="")  # remote number as dialed/presented
    e164: Mapped[str | None] = mapped_column(String(20), index=True)
    withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_name: Mapped[str] = mapped_column(String(120), default="")
    did: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(80), default="")
    rang: Mapped[list[str]] = mapped_column(JSON, default=list)  # extensions, in ringing order
    answered_extension: Mapped[str | None] = mapped_column(String(32), index=True)
    answered_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )  # the team the call was for (of the first user who rang or answered)
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime]
    wait_s: Mapped[float] = mapped_column(Float, default=0.0)
    ring_s: Mapped[float] = mapped_column(Float, default=0.0)
    talk_s: Mapped[float] = mapped_column(Float, default=0.0)
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    disposition: Mapped[str] = mapped_column(String(12))
    recording: Mapped[str] = mapped_column(String(255), default="")
    # the outside number the PBX forwarded the call to (then answered there, not by an operator)
    forwarded_to: Mapped[str] = mapped_column(String(32), default="")
    # the caller left a message in voicemail: its duration and file where Asterisk reports them
    voicemail_left: Mapped[bool] = mapped_column(Boolean, default=False)
    voicemail_s: Mapped[float | None] = mapped_column(Float)
    voicemail_file: Mapped[str] = mapped_column(String(255), default="")
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL")
    )
    callback_task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    legs: Mapped[list[CallLeg]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallLeg.id"
    )


class CallLeg(Base):
    """An extension that rang (or answered) for a call, with the user bound to it at the time.

    Kept as rows (not only the JSON ``rang`` list) so "calls that rang my phone" is an indexed query
    on every database.
    """

    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    extension: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    answered: Mapped[bool] = mapped_column(Boolean, default=False)

    call: Mapped[Call] = relationship(back_populates="legs")


class CallNote(Base):
    """What the operator typed during the call; may exist before the call is logged."""

    __tablename__ = "call_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
