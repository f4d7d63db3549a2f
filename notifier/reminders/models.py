"""Reminder rules (what to send before an event) and the schedule each event's reminders have."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow

REMINDER_CHANNELS = ("sms", "email", "voice")  # voice: an automated call, "reminder" script
MAX_OFFSET_MINUTES = 60 * 24 * 60  # 60 days: the farthest a reminder may go before its event


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


class ReminderSchedule(Base):
    """One row per task/event with reminders: the revision and what it was computed from.

    The outbox returns the existing row for a known idempotency key, even a withdrawn one, so an
    event moved to 11:00 and back to 10:00 needs a fresh key: the revision changes every time the
    schedule is recomputed and is part of every key (``reminder:<task>:<rev>:...``).
    """

    __tablename__ = "reminder_schedules"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(default=1)
    signature: Mapped[str] = mapped_column(String(40), default="")
