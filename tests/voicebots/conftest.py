"""The voicebots' Asterisk voice channel, registered with the notifier as the app does at
start-up (``register_channel``), so that ``CALLCARD_VOICE_CHANNEL=asterisk`` works here."""

from __future__ import annotations

import pytest

from notifier.channels import register_channel
from voicebots.asterisk_channel import AsteriskVoice


@pytest.fixture(autouse=True, scope="session")
def asterisk_voice_channel() -> None:
    register_channel("voice", "asterisk", AsteriskVoice)
