"""Inbound SMS: one code path for Twilio's webhook and the simulated handset."""

from notifier.inbound.service import InboundResult, handle_inbound_sms

__all__ = ["InboundResult", "handle_inbound_sms"]
