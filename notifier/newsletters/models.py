"""Newsletters, the saved client segments they go to, and the addresses that unsubscribed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow


class SavedSegment(Base):
    """A named set of client-list filters, reused as newsletter recipients."""

    __tablename__ = "saved_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Newsletter(Base):
    """An e-mail campaign: a sandboxed template, its recipients' filters, its test and send state."""

    __tablename__ = "newsletters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_segments.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | sent
    tested_hash: Mapped[str] = mapped_column(String(64), default="")
    tested_to: Mapped[str] = mapped_column(String(254), default="")
    tested_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NewsletterUnsubscribe(Base):
    """An address that asked for no more newsletters (by the signed link in each e-mail)."""

    __tablename__ = "newsletter_unsubscribes"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_lower: Mapped[str] = mapped_column(String(254), unique=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    newsletter_id: Mapped[int | None] = mapped_column(
        ForeignKey("newsletters.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
