"""Call figures per UTC hour, per direction, in four cuts: every call, per operator, per queue
and per team. One row per (hour, direction, cut, key); a finished call adds 1 to four rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base

#: the cuts of the figures; the key is "" for "total", the user id / team id as text, the queue
CUTS = ("total", "operator", "queue", "team")


class CallHourStat(Base):
    """Counts and sums of the calls that started in one UTC hour (``hour`` is its start).

    Durations are summed in milliseconds as integers, so the figures equal a direct sum over
    the calls exactly on every database.
    """

    __tablename__ = "call_hour_stats"
    __table_args__ = (
        UniqueConstraint("hour", "direction", "cut", "key", name="uq_call_hour_stats_key"),
        Index("ix_call_hour_stats_cut_hour", "cut", "hour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime]
    direction: Mapped[str] = mapped_column(String(10))
    cut: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(80), default="")
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    busy: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    answered_in_sl: Mapped[int] = mapped_column(Integer, default=0)
    wait_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    talk_ms: Mapped[int] = mapped_column(BigInteger, default=0)
