"""Long-running dashboard services for each web process: the wall counters and, in the
embedded default, the scheduled report e-mails."""

from __future__ import annotations

from crm_core.config import CoreSettings
from crm_core.services import BackgroundService


def embedded_services(settings: CoreSettings) -> list[BackgroundService]:
    from dashboard.reports.scheduled import ScheduledReportsLoop
    from dashboard.wall.service import WallService

    services: list[BackgroundService] = [WallService(settings)]
    if settings.is_embedded and getattr(settings, "embedded_dispatcher", True):
        services.append(ScheduledReportsLoop(settings))  # production: Celery beat
    return services
