"""Reminder rules: which messages an event type gets and how long before it starts.

While the table is empty the built-in ``DEFAULT_RULES`` apply; the first admin edit turns them
into rows (so editing one keeps the others), and removing the last rule keeps it as an inactive
row (so that an emptied table does not bring the defaults back). Changing the rules reschedules
the upcoming events: that is ``notifier.reminders.service``'s part.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.audit.service import snapshot
from crm_core.errors import Conflict, Invalid, NotFound
from notifier.reminders.models import MAX_OFFSET_MINUTES, REMINDER_CHANNELS, ReminderRule
from notifier.reminders.schemas import RuleOut

#: used while the rules table is empty (a type with only inactive rules gets no reminders)
DEFAULT_RULES: dict[str, list[tuple[str, int]]] = {
    "appointment": [("sms", 24 * 60), ("sms", 120)],
    "meeting": [("email", 24 * 60), ("sms", 60)],
    "call": [("sms", 60)],
}
CHANGEABLE = ("channel", "offset_minutes", "active", "event_type")


def rules_by_type(db: Session) -> dict[str, list[tuple[str, int]]]:
    """Event type -> its active rules as (channel, offset minutes), farthest first."""
    rows = list(db.scalars(select(ReminderRule).order_by(ReminderRule.offset_minutes.desc())))
    if not rows:
        return {k: list(v) for k, v in DEFAULT_RULES.items()}
    rules: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        if row.active:
            rules.setdefault(row.event_type, []).append((row.channel, row.offset_minutes))
    return rules


def list_rules(db: Session) -> list[RuleOut]:
    rows = list(db.scalars(select(ReminderRule).order_by(ReminderRule.event_type, ReminderRule.id)))
    if rows:
        return [RuleOut.model_validate(r) for r in rows]
    return [
        RuleOut(id=None, event_type=t, channel=c, offset_minutes=o, active=True, default=True)
        for t, items in DEFAULT_RULES.items()
        for c, o in items
    ]


def _check_rule(event_type: str, channel: str, offset_minutes: int) -> None:
    if not event_type or len(event_type) > 40 or not event_type.replace("_", "").isalnum():
        raise Invalid("event_type", "must be a short word such as appointment, meeting, call")
    if channel not in REMINDER_CHANNELS:
        raise Invalid("channel", f"must be one of {', '.join(REMINDER_CHANNELS)}")
    if not 1 <= offset_minutes <= MAX_OFFSET_MINUTES:
        raise Invalid("offset_minutes", f"must be between 1 and {MAX_OFFSET_MINUTES}")


def materialise_defaults(db: Session) -> bool:
    """The first admin edit turns the built-in defaults into rows, so editing one keeps the rest;
    whether it did (False: rows exist already)."""
    if db.scalar(select(ReminderRule.id).limit(1)) is not None:
        return False
    for event_type, items in DEFAULT_RULES.items():
        for channel, offset in items:
            db.add(ReminderRule(event_type=event_type, channel=channel, offset_minutes=offset))
    db.flush()
    return True


_materialise_defaults = materialise_defaults


def rule_snapshot(db: Session, rule_id: int) -> dict[str, Any] | None:
    """The rule's columns before a change, for the audit (None: no such rule)."""
    row = db.get(ReminderRule, rule_id)
    return snapshot(row) if row is not None else None


def insert_rule(
    db: Session, *, event_type: str, channel: str, offset_minutes: int, active: bool = True
) -> ReminderRule:
    """A new rule (``Conflict`` if the same one exists)."""
    _check_rule(event_type, channel, offset_minutes)
    _materialise_defaults(db)
    exists = db.scalar(
        select(ReminderRule).where(
            ReminderRule.event_type == event_type,
            ReminderRule.channel == channel,
            ReminderRule.offset_minutes == offset_minutes,
        )
    )
    if exists is not None:
        raise Conflict(f"a {channel} reminder {offset_minutes} minutes before {event_type} exists")
    row = ReminderRule(
        event_type=event_type, channel=channel, offset_minutes=offset_minutes, active=active
    )
    db.add(row)
    db.flush()
    return row


def change_rule(db: Session, rule_id: int, changes: dict[str, Any]) -> ReminderRule:
    row = db.get(ReminderRule, rule_id)
    if row is None:
        raise NotFound(f"reminder rule {rule_id} not found")
    for name, value in changes.items():
        if name not in CHANGEABLE:
            raise Invalid(name, "cannot be changed")
        if value is None:
            raise Invalid(name, "must not be empty")
        setattr(row, name, value)
    _check_rule(row.event_type, row.channel, row.offset_minutes)
    db.flush()
    return row


def remove_rule(db: Session, rule_id: int) -> None:
    row = db.get(ReminderRule, rule_id)
    if row is None:
        raise NotFound(f"reminder rule {rule_id} not found")
    # keep one row so that an emptied table does not bring the defaults back
    row.active = False
    others = db.scalar(
        select(ReminderRule.id).where(ReminderRule.id != rule_id, ReminderRule.active).limit(1)
    )
    if others is not None:
        db.delete(row)
    db.flush()
