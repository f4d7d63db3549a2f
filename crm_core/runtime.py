"""crm_core's service in each web process: resume a search-text refresh left unfinished."""

from __future__ import annotations

import asyncio

from crm_core.config import CoreSettings
from crm_core.services import BackgroundService


class SearchRefreshService:
    """Starts the background search-text refresh at start-up (it exits at once when nothing is
    queued; changes wake it again) and stops it between two batches at shutdown."""

    name = "search refresh"

    def __init__(self, settings: CoreSettings) -> None:
        self.settings = settings

    async def start(self) -> None:
        from crm_core.search.refresh import refresher

        refresher(self.settings).wake()

    async def stop(self) -> None:
        from crm_core.search.refresh import refresher

        await asyncio.to_thread(refresher(self.settings).stop)


class ImportResumeService:
    """Goes on with the import jobs a stopped process left unfinished (embedded default; in
    production the worker calls ``crm_core.exchange.jobs.resume_unfinished`` when it starts)."""

    name = "import jobs"

    async def start(self) -> None:
        from crm_core.exchange.jobs import resume_unfinished

        await asyncio.to_thread(resume_unfinished)

    async def stop(self) -> None:
        return None


def embedded_services(settings: CoreSettings) -> list[BackgroundService]:
    from crm_core.backups.scheduler import BackupScheduler

    backups = [BackupScheduler(settings)] if settings.is_embedded else []
    imports = [ImportResumeService()] if settings.is_embedded else []
    return [SearchRefreshService(settings), *backups, *imports]
