"""Long-running dashboard services (wall counters) for the embedded default."""

from __future__ import annotations

from crm_core.config import Settings
from crm_core.services import BackgroundService


def embedded_services(settings: Settings) -> list[BackgroundService]:
    return []
