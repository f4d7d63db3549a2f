"""Import every notifier model so that the metadata is complete."""

from notifier.inbound.models import InboundSms
from notifier.newsletters.models import Newsletter, NewsletterUnsubscribe, SavedSegment
from notifier.outbox.models import OptOut, OutboxMessage, OutboxStatusChange
from notifier.quiet_hours.models import QuietHours
from notifier.reminders.models import ReminderRule, ReminderSchedule
from notifier.surveys.models import Survey, Watermark
from notifier.templates.models import MessageTemplate

__all__ = [
    "InboundSms",
    "MessageTemplate",
    "Newsletter",
    "NewsletterUnsubscribe",
    "OptOut",
    "OutboxMessage",
    "OutboxStatusChange",
    "QuietHours",
    "ReminderRule",
    "ReminderSchedule",
    "SavedSegment",
    "Survey",
    "Watermark",
]
