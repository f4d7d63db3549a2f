"""Long-running notifier services for the embedded default: the in-process outbox dispatcher.

Production runs the same claim-and-send code in Celery (``notifier.celery_app``) instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from crm_core.services import BackgroundService
from notifier.config import NotifierSettings

log = logging.getLogger("callcard.notifier")


class EmbeddedDispatcher:
    """Every ``dispatch_interval_seconds``: claim due outbox rows and send them, in a thread."""

    name = "notifier-dispatcher"

    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self._task: asyncio.Task | None = None
        self._dispatcher = None

    async def start(self) -> None:
        from notifier.outbox.dispatch import Dispatcher

        self._dispatcher = Dispatcher(self.settings)
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        assert self._dispatcher is not None
        batch = self.settings.dispatch_batch_size
        while True:
            busy = False
            try:
                stats = await asyncio.to_thread(self._dispatcher.run_once)
                busy = stats.claimed >= batch
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox dispatch failed; retrying at the next tick")
            if not busy:
                await asyncio.sleep(self.settings.dispatch_interval_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._dispatcher is not None:
            await asyncio.to_thread(self._dispatcher.close)
            self._dispatcher = None


def embedded_services(settings: NotifierSettings) -> list[BackgroundService]:
    if settings.is_embedded and settings.embedded_dispatcher:
        from notifier.jobs import EngagementLoop

        return [EmbeddedDispatcher(settings), EngagementLoop(settings)]
    return []
