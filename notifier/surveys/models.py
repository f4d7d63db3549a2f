"""Rating surveys and the watermark of the call-log scan that creates them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow


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


class Watermark(Base):
    """The last row a periodic scan handled (e.g. the highest ``calls.id`` considered for surveys)."""

    __tablename__ = "notifier_watermarks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
