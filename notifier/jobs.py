"""The engagement side's periodic work, one short transaction per job.

- due task reminders -> bus ``task.due`` to the assignee (``reminders.publish_due_task_reminders``)
- newly logged answered calls -> surveys (``surveys.scan_calls``)
- surveys nobody answered within ``survey_reply_hours`` -> ``expired`` (``surveys.expire_surveys``)

Production: Celery beat fires the task ``notifier.engagement_jobs`` (``notifier.celery_app``) every
``engagement_interval_seconds``. Embedded default: :class:`EngagementLoop` runs the same function.
Each job is safe to run in several processes at once (conditional updates, watermark row lock,
unique keys), so an overlapping tick does no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from crm_core.database import session_scope
from notifier.config import NotifierSettings

log = logging.getLogger("callcard.notifier.engagement")


def run_all(settings: NotifierSettings | None = None) -> dict[str, int]:
    """Run every periodic engagement job once; a failing job does not stop the others."""
    from notifier.invoice_reminders.service import run_invoice_reminders
    from notifier.reminders.service import publish_due_task_reminders
    from notifier.surveys.service import expire_surveys, scan_calls

    counts: dict[str, int] = {}
    for name, job in (
        ("task_reminders", publish_due_task_reminders),
        ("call_surveys", scan_calls),
        ("expired_surveys", expire_surveys),
        ("invoice_reminders", run_invoice_reminders),
    ):
        try:
            with session_scope(settings) as db:
                counts[name] = job(db)
        except Exception:
            log.exception("engagement job %s failed; it runs again at the next tick", name)
            counts[name] = -1
    return counts


class EngagementLoop:
    """Embedded default: ``run_all`` every ``engagement_interval_seconds``, in a thread."""

    name = "notifier-engagement"

    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(run_all, self.settings)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("engagement jobs failed")
            await asyncio.sleep(max(1.0, self.settings.engagement_interval_seconds))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
