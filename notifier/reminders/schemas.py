from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import text as bounded
from notifier.reminders.models import MAX_OFFSET_MINUTES

ReminderChannel = Literal["sms", "email", "voice"]
OffsetMinutes = Annotated[int, Field(ge=1, le=MAX_OFFSET_MINUTES)]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: bounded(40, 1)
    channel: ReminderChannel
    offset_minutes: OffsetMinutes
    active: bool = True


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: bounded(40, 1) | None = None
    channel: ReminderChannel | None = None
    offset_minutes: OffsetMinutes | None = None
    active: bool | None = None


class RuleOut(BaseModel):
    """A reminder rule; while none is saved, the built-in ones (``id`` null, ``default`` true)."""

    model_config = ConfigDict(from_attributes=True)

    id: int | None
    event_type: str
    channel: str
    offset_minutes: int
    active: bool
    default: bool = False
