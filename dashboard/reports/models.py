"""A manager's opt-in to a scheduled report e-mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow

FREQUENCIES = ("daily", "weekly")


class ReportSubscription(Base):
    """One per user: ``daily`` (yesterday's figures) or ``weekly`` (last Monday-to-Sunday).

    ``last_period`` is the period last queued (``2024-05-03`` or ``2024-W18``): a tick that comes
    twice, or two schedulers, never queue it again (the outbox key is the same too)."""

    __tablename__ = "report_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    frequency: Mapped[str] = mapped_column(String(10), default="weekly")
    last_period: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


__all__ = ["ReportSubscription"]
