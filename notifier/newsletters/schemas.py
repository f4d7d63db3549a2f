from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import BodyId
from crm_core.apitypes import text as bounded


class SavedSegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: bounded(120, 1)
    filters: dict[str, Any] = Field(default_factory=dict)


class SavedSegmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    filters: dict[str, Any]


class NewsletterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: bounded(200, 1)
    subject: bounded(250, 1)
    body: bounded(200_000, 1)
    filters: dict[str, Any] = Field(default_factory=dict)
    segment_id: BodyId | None = None


class NewsletterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: bounded(200, 1) | None = None
    subject: bounded(250, 1) | None = None
    body: bounded(200_000, 1) | None = None
    filters: dict[str, Any] | None = None
    segment_id: BodyId | None = None


class NewsletterOut(BaseModel):
    id: int
    name: str
    subject: str
    body: str
    filters: dict[str, Any]
    segment_id: int | None
    status: str = Field(description="draft | sent")
    tested_to: str | None
    tested_at: str | None
    test_is_current: bool = Field(description="the last test send had this exact content")
    sent_at: str | None
    recipients: int


class RecipientsOut(BaseModel):
    count: int
    sample: list[str] = Field(description="the first 20 addresses")


class TestSendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: bounded(254, 3)


class TestSendOut(BaseModel):
    message_id: int
    to: str
    recipients: int


class SendOut(BaseModel):
    queued: int
    recipients: int


class RecipientCountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filters: dict[str, Any] = Field(default_factory=dict)
    segment_id: BodyId | None = None


class DeliveryStatsOut(BaseModel):
    id: int
    status: str
    recipients: int
    queued: int = Field(description="outbox rows written for it")
    waiting: int = Field(description="not sent yet (pending, retrying, in flight)")
    sent: int
    delivered: int
    failed: int
    cancelled: int = Field(description="withdrawn, e.g. after an unsubscribe")
    unsubscribed: int
    done: bool


class UnsubscribeOut(BaseModel):
    email: str
    client_id: int | None
    newsletter_id: int | None
    newsletter: str | None
    at: str
