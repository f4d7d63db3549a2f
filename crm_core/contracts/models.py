"""Contracts with a client: number, term, renewal, the signed scan, the owner to remind."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow

ENTITY = "contract"
CONTRACT_STATUSES = ("draft", "active", "expired", "terminated")


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("number", name="uq_contracts_number"),
        Index("ix_contracts_client", "client_id", "created_at"),
        Index("ix_contracts_status_ends", "status", "ends_on"),
        Index("ix_contracts_remind", "remind_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    series: Mapped[str] = mapped_column(String(20), default="C")
    year: Mapped[int]
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(250), default="")
    status: Mapped[str] = mapped_column(String(12), default="active")
    signed_on: Mapped[date | None]
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    auto_renew: Mapped[bool] = mapped_column(default=False)
    renewal_months: Mapped[int] = mapped_column(default=12)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="RON")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    scan_attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="SET NULL")
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    remind_days_before: Mapped[int] = mapped_column(default=30)
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
