"""The FastAGI server inside the web process, for the embedded default (opt-in).

With several web processes (production) run ``callcard voicebots agi`` once instead: only one
process can listen on the FastAGI port.
"""

from __future__ import annotations

from crm_core.services import BackgroundService
from voicebots.config import VoicebotSettings


def embedded_services(settings: VoicebotSettings) -> list[BackgroundService]:
    if settings.is_embedded and settings.voice_agi_embedded:
        from voicebots.agi import FastAgiServer

        return [FastAgiServer(settings.voice_agi_host, settings.voice_agi_port)]
    return []
