"""Every SMS someone sent us, with what it was taken for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow


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
