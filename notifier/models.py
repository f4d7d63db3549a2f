"""Import every notifier model so that the metadata is complete."""

from notifier.outbox.models import OptOut, OutboxMessage, OutboxStatusChange

__all__ = ["OptOut", "OutboxMessage", "OutboxStatusChange"]
