"""Import every notifier model so that the metadata is complete."""

from notifier.engagement_models import (
    InboundSms,
    MessageTemplate,
    Newsletter,
    NewsletterUnsubscribe,
    ReminderRule,
    SavedSegment,
    Survey,
    Watermark,
)
from notifier.outbox.models import OptOut, OutboxMessage, OutboxStatusChange
from notifier.reminders.models import ReminderSchedule

__all__ = [
    "InboundSms",
    "MessageTemplate",
    "Newsletter",
    "NewsletterUnsubscribe",
    "OptOut",
    "OutboxMessage",
    "OutboxStatusChange",
    "ReminderRule",
    "ReminderSchedule",
    "SavedSegment",
    "Survey",
    "Watermark",
]
