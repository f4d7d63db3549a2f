"""What the call log API returns and accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    linkedid: str
    direction: str
    number: str
    e164: str | None
    withheld: bool
    caller_name: str
    did: str
    queue: str
    rang: list[str]
    answered_extension: str | None
    answered_user_id: int | None
    team_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    wait_s: float
    ring_s: float
    talk_s: float
    transfers: list[dict[str, Any]]
    disposition: str
    recording: str
    forwarded_to: str
    voicemail_left: bool
    voicemail_s: float | None
    voicemail_file: str
    client_id: int | None
    callback_task_id: int | None
    note: str


class CallPage(BaseModel):
    items: list[CallOut]
    total: int
    limit: int
    offset: int


class NoteIn(BaseModel):
    body: str = Field(max_length=20_000)


class NoteOut(BaseModel):
    call_id: str
    body: str
    logged: bool


class CallToReturn(BaseModel):
    task_id: int
    call_id: int
    linkedid: str
    number: str
    e164: str | None
    client_id: int | None
    client_name: str | None
    queue: str
    disposition: str
    voicemail_left: bool
    voicemail_s: float | None
    at: datetime
    attempts: int
    assignee_id: int | None
    team_id: int | None


class OriginateIn(BaseModel):
    """Either a number, or a client and one of its phones."""

    number: str | None = Field(None, max_length=64)
    client_id: int | None = None
    phone_id: int | None = None

    @model_validator(mode="after")
    def _one_target(self) -> OriginateIn:
        if not self.number and self.client_id is None:
            raise ValueError("give either number, or client_id and phone_id")
        if self.number and self.client_id is not None:
            raise ValueError("give number or client_id, not both")
        return self


class OriginateOut(BaseModel):
    status: str  # ringing_operator
    extension: str
    number: str
    e164: str
    action_id: str
    message: str


class OperatorState(BaseModel):
    extension: str
    user_id: int | None
    username: str | None
    state: str
    since: datetime | None
