"""The settings of the whole application: every part's section composed into one class.

The sections extend one another along the parts' dependencies (core <- cti <- notifier <-
voicebots), so the voicebots' section already holds every field; the root's class is the one
a reader looks at for "every setting", and what the root's own code asks for."""

from __future__ import annotations

from crm_core.config import SettingsOf
from voicebots.config import VoicebotSettings


class Settings(VoicebotSettings):
    """Every setting of Callcard (environment variables ``CALLCARD_<NAME>``)."""


get_settings = SettingsOf(Settings)
