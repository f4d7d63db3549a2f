from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow

INTERACTION_KINDS = ("call", "meeting", "visit", "email", "sms", "note", "rating")


class Interaction(Base):
    """One entry of a client's history."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_client_time", "client_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10), default="")  # inbound | outbound | ""
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    type_code: Mapped[str] = mapped_column(String(40), default="")
    result_code: Mapped[str] = mapped_column(String(40), default="")
    subject: Mapped[str] = mapped_column(String(250), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    duration_s: Mapped[int | None]
    phone_number: Mapped[str] = mapped_column(String(32), default="")
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)  # Linkedid for calls
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChoiceItem(Base):
    """Admin-configurable lists: interaction types and results, client categories, sources."""

    __tablename__ = "choice_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
