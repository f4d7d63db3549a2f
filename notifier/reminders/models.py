"""Which reminder schedule a task currently has (its revision goes into the outbox keys)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base


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
