"""One row per backup run: when, where, how big, and what its verification found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import crm_core.auth.models  # noqa: F401  (the users table the foreign key names)
from crm_core.database import Base, utcnow

RUN_STATUSES = ("running", "ok", "failed", "interrupted")
VERIFICATIONS = ("pending", "passed", "failed", "skipped")
TRIGGERS = ("schedule", "manual", "cli")


class BackupRun(Base):
    __tablename__ = "backup_runs"
    __table_args__ = (Index("ix_backup_runs_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    #: the scheduled time a scheduled run is for: unique, so two schedulers never both run it
    slot: Mapped[str | None] = mapped_column(String(40), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: touched while the run works (crm_core.backups.liveness): a dead one is told apart
    alive_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    path: Mapped[str] = mapped_column(String(1000), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="running")
    stage: Mapped[str] = mapped_column(String(20), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent of the current stage
    encrypted: Mapped[bool] = mapped_column(default=False)
    schema_revision: Mapped[str] = mapped_column(String(64), default="")
    rows: Mapped[int | None] = mapped_column(BigInteger)
    files: Mapped[int | None] = mapped_column(Integer)
    verified_at: Mapped[datetime | None]
    verification: Mapped[str] = mapped_column(String(20), default="pending")
    verification_detail: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")

    @property
    def file_name(self) -> str:
        """The archive's name (its folder is the settings' business, not the browser's)."""
        return self.path.replace("\\", "/").rsplit("/", 1)[-1] if self.path else ""
