"""The admin's quiet hours: one row, read by the outbox at claim time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow


class QuietHours(Base):
    """No SMS or automated call leaves between ``start_hour`` and ``end_hour`` (recipient's
    local time; ``timezone`` is used for recipients whose zone is unknown, '' = the company's).
    ``start_hour == end_hour`` turns quiet hours off."""

    __tablename__ = "quiet_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    start_hour: Mapped[int]
    end_hour: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
