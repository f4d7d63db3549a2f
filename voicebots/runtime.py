"""The FastAGI server inside the web process, for the embedded default (opt-in).

With several web processes (production) run ``callcard voicebots agi`` once instead: only one
process can listen on the FastAGI port.
"""

from __future__ import annotations

from crm_core.config import Settings
from crm_core.services import BackgroundService


def embedded_services(settings: Settings) -> list[BackgroundService]:
    if settings.is_embedded and settings.voice_agi_embedded:
        from voicebots.agi import FastAgiServer

        return [FastAgiServer(settings.voice_agi_host, settings.voice_agi_port)]
    return []
