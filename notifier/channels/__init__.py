"""Delivery channels behind one interface (:class:`Channel`), chosen by the settings."""

from __future__ import annotations

from crm_core.config import Settings
from notifier.channels.base import Channel, OutgoingMessage, SendResult

__all__ = ["Channel", "OutgoingMessage", "SendResult", "channel_for"]


def channel_for(kind: str, settings: Settings) -> Channel:
    """The configured adapter for an outbox channel (``sms``, ``voice``, ``email``)."""
    if kind == "sms":
        choice = settings.sms_channel
    elif kind == "voice":
        choice = settings.voice_channel
    elif kind == "email":
        choice = settings.email_channel
    else:
        raise ValueError(f"unknown channel {kind!r}")
    if choice == "console":
        from notifier.channels.console import ConsoleChannel

        return ConsoleChannel(kind)
    if choice == "twilio" and kind == "sms":
        from notifier.channels.twilio import TwilioSMS

        return TwilioSMS(settings)
    if choice == "twilio" and kind == "voice":
        from notifier.channels.twilio import TwilioVoice

        return TwilioVoice(settings)
    if choice == "asterisk" and kind == "voice":
        from voicebots.asterisk_channel import AsteriskVoice

        return AsteriskVoice(settings)
    if choice == "smtp" and kind == "email":
        from notifier.channels.email import SMTPEmail

        return SMTPEmail(settings)
    raise ValueError(f"channel {choice!r} cannot send {kind}")
