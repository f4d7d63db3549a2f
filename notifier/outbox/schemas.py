from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    at: datetime
    source: str
    error_code: str
    detail: str


class OutboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    client_id: int | None
    purpose: str
    template: str
    status: str
    attempts: int
    due_at: datetime
    next_attempt_at: datetime
    provider_id: str | None
    error_code: str
    error_message: str
    segments: int
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime


class OutboxMessageDetail(OutboxMessageOut):
    meta: dict[str, Any]
    idempotency_key: str
    history: list[StatusChangeOut]


class OutboxPage(BaseModel):
    items: list[OutboxMessageOut]
    next_before_id: int | None


class OutboxCounts(BaseModel):
    by_status: dict[str, int]
