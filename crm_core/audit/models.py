from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base, utcnow


class AuditEntry(Base):
    """Who changed what and when, with the values before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # the audit screen pages newest first by (at, id) within each filter
        Index("ix_audit_actor_at", "actor_id", "at", "id"),
        Index("ix_audit_action_at", "action", "at", "id"),
        Index("ix_audit_entity_at", "entity", "at", "id"),
        Index("ix_audit_record_at", "entity", "entity_id", "at", "id"),  # also (entity, id)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))  # create | update | delete | restore | merge
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
