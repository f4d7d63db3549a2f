"""The scheduled backup in the embedded default: checks once a minute whether it is due.

Production runs the same :func:`run_if_due` from a Celery beat task (declared with the
other beat tasks of the Celery app). A scheduled time is a unique slot of ``backup_runs``, so several
processes asking at once run it once. The embedded loop only runs times after its own start:
starting the application never launches a backup at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm_core.backups.models import BackupRun
from crm_core.backups.service import CATCH_UP, run_backup
from crm_core.config import CoreSettings, get_settings
from crm_core.database import session_scope, utcnow

log = logging.getLogger("callcard.backups")
CHECK_SECONDS = 60.0


class BackupScheduler:
    name = "backup scheduler"

    def __init__(self, settings: CoreSettings) -> None:
        self.settings = settings
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if daily_time(self.settings) is None:
            return
        self._task = asyncio.create_task(self._run(utcnow()), name=self.name)

    async def _run(self, started) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                await asyncio.to_thread(run_if_due, self.settings, started)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the scheduled backup could not start; trying again in a minute")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


def daily_time(settings: CoreSettings) -> tuple[int, int] | None:
    value = (settings.backup_schedule or "").strip()
    if not value:
        return None
    hour, _, minute = value.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"CALLCARD_BACKUP_SCHEDULE {value!r} is not a time HH:MM")
    return int(hour), int(minute)


def _occurrence(settings: CoreSettings, now: datetime, days: int) -> datetime | None:
    at = daily_time(settings)
    if at is None:
        return None
    local = now.astimezone(ZoneInfo(settings.timezone))
    day = local.replace(hour=at[0], minute=at[1], second=0, microsecond=0) + timedelta(days=days)
    return day.replace(tzinfo=local.tzinfo)


def next_run_at(settings: CoreSettings, now: datetime | None = None) -> datetime | None:
    """When the next scheduled backup starts (None: no schedule)."""
    now = now or utcnow()
    today = _occurrence(settings, now, 0)
    if today is None:
        return None
    return today if today > now else _occurrence(settings, now, 1)


def due_slot(settings: CoreSettings, now: datetime, not_before: datetime | None) -> str | None:
    """The scheduled time due now, as the run's slot key; None when nothing is due."""
    last = _occurrence(settings, now, 0)
    if last is None:
        return None
    if last > now:
        last = _occurrence(settings, now, -1)
    assert last is not None
    if now - last > CATCH_UP or (not_before is not None and last < not_before):
        return None
    return last.isoformat()


def run_if_due(
    settings: CoreSettings | None = None,
    not_before: datetime | None = None,
    runner: Callable[..., int | None] = run_backup,
) -> int | None:
    """Run the scheduled backup when its time has come and nobody ran it yet."""
    settings = settings or get_settings()
    slot = due_slot(settings, utcnow(), not_before)
    if slot is None:
        return None
    with session_scope(settings) as db:
        if db.scalar(select(BackupRun.id).where(BackupRun.slot == slot)) is not None:
            return None
    return runner(settings, trigger="schedule", slot=slot)
