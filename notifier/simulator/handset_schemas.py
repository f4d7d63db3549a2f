"""What the simulated handset page reads and sends."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import text as bounded


class HandsetConversation(BaseModel):
    number: str = Field(description="E.164")
    client_id: int | None
    name: str = Field(description="The client's name; '' when the number is no client's")
    body: str = Field(description="The last SMS sent to the number")
    at: str


class HandsetMessage(BaseModel):
    direction: str = Field(description="outbound (we sent it) | inbound (the phone replied)")
    id: int
    body: str
    status: str = Field(description="outbox status, or what the reply was taken for")
    purpose: str
    at: str
    segments: int


class HandsetThread(BaseModel):
    number: str
    messages: list[HandsetMessage]


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: bounded(1600, 1)


class ReplyOut(BaseModel):
    outcome: str
    client_id: int | None
    survey_id: int | None
    rating: int | None
