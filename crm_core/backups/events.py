"""The backups' bus messages (to every signed-in admin) and their in-transaction signal.

``backup.status`` carries a run's progress for the backups page; ``backup.failed`` tells admins
a backup or its verification failed (the page and the toast). :data:`backup_failed` lets a part
above crm_core react in the transaction that records the failure (the messaging part e-mails
the admins through its outbox).
"""

from __future__ import annotations

from dataclasses import fields
from typing import ClassVar

from crm_core.events import Audience, BusEvent, bus_message
from crm_core.signals import Signal

ADMINS: Audience = ("role:admin",)

#: (db, run: BackupRun, stage: "backup" | "verification") after a failure is recorded
backup_failed = Signal("backup_failed")


@bus_message
class BackupStatus(BusEvent):
    type: ClassVar[str] = "backup.status"
    audience: ClassVar[Audience] = ADMINS
    run_id: int
    status: str
    stage: str
    progress: int
    verification: str


@bus_message
class BackupFailed(BusEvent):
    type: ClassVar[str] = "backup.failed"
    audience: ClassVar[Audience] = ADMINS
    run_id: int
    stage: str  # backup | verification
    error: str


for _cls in (BackupStatus, BackupFailed):
    _cls.wire = tuple(f.name for f in fields(_cls))  # type: ignore[arg-type]
