"""Delivery channels behind one interface (:class:`Channel`), chosen by the settings.

Each outbox channel kind (``sms``, ``voice``, ``email``) has a setting naming the adapter to
use (``CALLCARD_SMS_CHANNEL`` ...). The adapters are found in a registry: the notifier's own
(console, Twilio, SMTP) are registered here; a part above the notifier adds its own with
:func:`register_channel` at start-up (the voicebots' Asterisk voice channel).
"""

from __future__ import annotations

from collections.abc import Callable

from notifier.channels.base import Channel, OutgoingMessage, SendResult
from notifier.config import NotifierSettings

__all__ = [
    "Channel",
    "ChannelFactory",
    "OutgoingMessage",
    "SendResult",
    "channel_for",
    "register_channel",
]

#: builds a channel adapter from the settings
ChannelFactory = Callable[[NotifierSettings], Channel]

#: the setting that chooses the adapter of each outbox channel kind
CHOICE_SETTINGS = {"sms": "sms_channel", "voice": "voice_channel", "email": "email_channel"}

_registry: dict[tuple[str, str], ChannelFactory] = {}


def register_channel(kind: str, choice: str, factory: ChannelFactory) -> None:
    """Make ``choice`` a valid value of ``kind``'s setting; ``factory(settings)`` builds it.

    Registering the same choice again replaces the factory (idempotent start-up code)."""
    if kind not in CHOICE_SETTINGS:
        raise ValueError(f"unknown channel kind {kind!r} (one of {', '.join(CHOICE_SETTINGS)})")
    _registry[(kind, choice)] = factory


def channel_for(kind: str, settings: NotifierSettings) -> Channel:
    """The configured adapter for an outbox channel (``sms``, ``voice``, ``email``)."""
    setting = CHOICE_SETTINGS.get(kind)
    if setting is None:
        raise ValueError(f"unknown channel {kind!r}")
    choice = getattr(settings, setting)
    factory = _registry.get((kind, choice))
    if factory is None:
        known = sorted(c for k, c in _registry if k == kind)
        raise ValueError(
            f"CALLCARD_{setting.upper()}={choice!r}: no such {kind} channel "
            f"(registered: {', '.join(known) or 'none'})"
        )
    return factory(settings)


def _console(kind: str) -> ChannelFactory:
    def build(settings: NotifierSettings) -> Channel:
        from notifier.channels.console import ConsoleChannel

        return ConsoleChannel(kind)

    return build


def _twilio_sms(settings: NotifierSettings) -> Channel:
    from notifier.channels.twilio import TwilioSMS

    return TwilioSMS(settings)


def _twilio_voice(settings: NotifierSettings) -> Channel:
    from notifier.channels.twilio import TwilioVoice

    return TwilioVoice(settings)


def _smtp(settings: NotifierSettings) -> Channel:
    from notifier.channels.email import SMTPEmail

    return SMTPEmail(settings)


# the notifier's own adapters (imported when first used: the Twilio client is slow to load)
for _kind in CHOICE_SETTINGS:
    register_channel(_kind, "console", _console(_kind))
register_channel("sms", "twilio", _twilio_sms)
register_channel("voice", "twilio", _twilio_voice)
register_channel("email", "smtp", _smtp)
