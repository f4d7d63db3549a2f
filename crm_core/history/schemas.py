from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import Moment, text

Kind = Literal["call", "meeting", "visit", "email", "sms", "note", "rating"]
Direction = Literal["", "inbound", "outbound"]
#: ratings come from surveys, not from a form
LoggedKind = Literal["call", "meeting", "visit", "email", "sms", "note"]


class InteractionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: int | None
    kind: str
    direction: str
    occurred_at: datetime
    author_id: int | None
    type_code: str
    result_code: str
    subject: str
    body: str
    duration_s: int | None
    phone_number: str
    call_id: str | None
    created_at: datetime
    custom: dict[str, Any] = Field(default_factory=dict)
    display_subject: str = Field(
        "",
        description="the subject as the signed-in user reads it: one the system wrote (the call "
        "log's) worded in their language and time zone, unless a person edited it; otherwise "
        "the subject itself",
    )


class InteractionPage(BaseModel):
    items: list[InteractionOut]
    total: int


class InteractionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: LoggedKind
    direction: Direction = ""
    occurred_at: Moment | None = Field(None, description="defaults to now")
    subject: text(250) = ""
    body: text(100_000) = ""
    type_code: text(40) = Field("", description="a code of the interaction_type list")
    result_code: text(40) = Field("", description="a code of the interaction_result list")
    duration_s: int | None = Field(None, ge=0, le=604_800)
    phone_number: text(32) = ""
    custom: dict[str, Any] = Field(default_factory=dict)


class InteractionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Direction | None = None
    occurred_at: Moment | None = None
    subject: text(250) | None = None
    body: text(100_000) | None = None
    type_code: text(40) | None = None
    result_code: text(40) | None = None
    duration_s: int | None = Field(None, ge=0, le=604_800)
    custom: dict[str, Any] | None = None
