"""The voicebots' section of the settings (FastAGI server, Asterisk voice calls)."""

from __future__ import annotations

from crm_core.config import SettingsOf
from notifier.config import NotifierSettings


class VoicebotSettings(NotifierSettings):
    """The notifier's settings and the voicebots'."""

    # voicebots: FastAGI server for Asterisk (``callcard voicebots agi``; in the web process too
    # when ``voice_agi_embedded`` is on in the embedded default)
    voice_agi_host: str = "127.0.0.1"
    voice_agi_port: int = 4573
    voice_agi_embedded: bool = False
    # voice_channel=asterisk: how the outbox dials a client (AMI Originate into the context that
    # runs AGI(agi://host:port/${VOICE_SCRIPT},${MESSAGE_ID}))
    voice_originate_channel: str = "PJSIP/{digits}@trunk"  # {digits}: E.164 without +, {e164}
    voice_originate_context: str = "callcard-voice"
    voice_originate_caller_id: str = ""
    voice_originate_timeout: float = 45.0


get_settings = SettingsOf(VoicebotSettings)
