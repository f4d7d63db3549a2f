"""Long-running dashboard services for each web process: the wall counters."""

from __future__ import annotations

from crm_core.config import CoreSettings
from crm_core.services import BackgroundService


def embedded_services(settings: CoreSettings) -> list[BackgroundService]:
    from dashboard.wall.service import WallService

    return [WallService(settings)]
