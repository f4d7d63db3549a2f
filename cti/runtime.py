"""Long-running CTI services for the embedded default (filled in by the CTI part)."""

from __future__ import annotations

from crm_core.config import Settings
from crm_core.services import BackgroundService


def embedded_services(settings: Settings) -> list[BackgroundService]:
    return []
